import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { pollPort } from '#internal/util/poll-port.js';

describe('pollPort', () => {
  it('takes a message already waiting, one at a time, even with no time to wait', () => {
    const { port1, port2 } = new MessageChannel();
    port2.postMessage('a');
    port2.postMessage('b');
    expect(pollPort(port1, 0)).toEqual({ message: 'a' });
    expect(pollPort(port1, 0)).toEqual({ message: 'b' });
    port1.close();
  });

  it('gives undefined once the window passed with no message, having waited for it', () => {
    const { port1 } = new MessageChannel();
    const start = performance.now();
    expect(pollPort(port1, 2)).toBeUndefined();
    expect(performance.now() - start).toBeGreaterThanOrEqual(2);
    port1.close();
  });
});

import { PassThrough } from 'node:stream';
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { HOLD_MS, MAX_HELD, relayLines } from '#internal/threads/process-output.js';

/** A destination stream that keeps every write, in order. */
function sink(): { stream: PassThrough; writes: string[] } {
  const stream = new PassThrough();
  const writes: string[] = [];
  stream.on('data', (b: Buffer) => writes.push(b.toString()));
  return { stream, writes };
}

describe('relayLines: a worker process output relayed whole lines at a time', () => {
  it('keeps a line whole when its end comes a turn later, after another child wrote', async () => {
    // A pipe read stops at 64 KiB, in the middle of a line the child wrote whole; the rest
    // of it comes at the next read, which may follow another child's lines.
    const { stream, writes } = sink();
    const a = new PassThrough();
    const b = new PassThrough();
    relayLines(a, stream);
    relayLines(b, stream);
    a.write('a1\na2-st');
    await turn();
    await turn();
    b.write('b1\n');
    await turn();
    a.write('art\n');
    await turn();
    expect(writes.join('')).toBe('a1\nb1\na2-start\n');
  });

  it('writes a line the task never ends once it has waited HOLD_MS', async () => {
    const { stream, writes } = sink();
    const a = new PassThrough();
    relayLines(a, stream);
    a.write('prompt> ');
    await turn();
    expect(writes.join('')).toBe('');
    await sleep(HOLD_MS * 3);
    expect(writes.join('')).toBe('prompt> ');
  });

  it("writes a held line's start at once when the pipe ends", async () => {
    const { stream, writes } = sink();
    const a = new PassThrough();
    relayLines(a, stream);
    a.end('no newline at the end');
    await turn();
    await turn();
    expect(writes.join('')).toBe('no newline at the end');
  });

  it('holds no more than MAX_HELD bytes of one line', async () => {
    const { stream, writes } = sink();
    const a = new PassThrough();
    relayLines(a, stream);
    a.write('x'.repeat(MAX_HELD));
    await turn();
    expect(writes.join('').length).toBe(MAX_HELD);
  });
});

import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InFlight, type Sent } from '#internal/nats/queue/in-flight.js';

beforeEach(() => {
  // Only the timers: the module reads `performance.now()` of node:perf_hooks, real time, so
  // a request is made old by its `sentAt`.
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
});
afterEach(() => {
  vi.useRealTimers();
});

interface Request extends Sent {
  readonly name: string;
}

describe('InFlight: requests on a private inbox, and one sweep for the unanswered', () => {
  it('hands a request unanswered for the timeout to expired, once, and no answered one', () => {
    const expired: string[] = [];
    const inFlight = new InFlight<Request>(1000, (r) => expired.push(r.name));
    const old = performance.now() - 2000;
    inFlight.add('1', { name: 'answered', sentAt: old });
    inFlight.add('2', { name: 'lost', sentAt: old });
    inFlight.add('3', { name: 'fresh', sentAt: performance.now() });
    expect(inFlight.take('1')?.name).toBe('answered');
    vi.advanceTimersByTime(249);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['lost']);
    expect(inFlight.take('2')).toBeUndefined();
    vi.advanceTimersByTime(750);
    expect(expired).toEqual(['lost']);
    expect(inFlight.size).toBe(1);
  });

  it('stops its timer after 4 sweeps with nothing in flight, and starts it on the next add', () => {
    const inFlight = new InFlight<Request>(1000, () => undefined);
    inFlight.add('1', { name: 'a', sentAt: performance.now() });
    inFlight.take('1');
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(4 * 250);
    expect(vi.getTimerCount()).toBe(0);
    inFlight.add('2', { name: 'b', sentAt: performance.now() });
    expect(vi.getTimerCount()).toBe(1);
    expect(inFlight.takeAll().map((r) => r.name)).toEqual(['b']);
    expect(vi.getTimerCount()).toBe(0);
    expect(inFlight.size).toBe(0);
  });
});

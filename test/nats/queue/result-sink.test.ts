/**
 * When a host's result batches go out (no server: a publisher that records): at a job
 * message's last result, or when the batch's linger is up, and at once when the host's next
 * result is not expected before then (no timer left to wake the host for it).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DurablePublisher } from '#internal/nats/queue/publisher.js';
import { ResultSink } from '#internal/nats/queue/result-sink.js';
import { decodeResults, ResultStatus } from '#internal/nats/queue/queue-codec.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Lets the next turn's callbacks (`setImmediate`) run. */
const nextTurn = (): void => {
  vi.advanceTimersByTime(0);
};

/**
 * A sink whose publishes are recorded (the ids of each batch's results; stored at once);
 * `runMs` and `slots` as a host's.
 */
function sink(runMs: number, slots: number): { sink: ResultSink; published: number[][] } {
  const published: number[][] = [];
  const publisher = {
    publish: (_subject: string, data: Uint8Array) => {
      published.push(decodeResults(data).results.map((r) => r.id));
      return Promise.resolve({ seq: published.length });
    },
  } as unknown as DurablePublisher;
  return {
    published,
    sink: new ResultSink({
      publisher,
      subject: (clientId) => `results.${clientId}`,
      hostId: 'host',
      maxBytes: 64 * 1024,
      limit: 64 * 1024,
      runMs: () => runMs,
      slots,
      onFailed: () => undefined,
    }),
  };
}

const owner = { stored: () => undefined };
const result = (id: number) => ({ id, status: ResultStatus.Ok, redelivered: false, value: id });

describe('ResultSink', () => {
  it("sends a message's last result on the next turn", () => {
    const { sink: s, published } = sink(0, 1);
    s.add('c', owner, result(1), true);
    expect(published).toEqual([]);
    nextTurn();
    expect(published).toEqual([[1]]);
  });

  it('holds a result for others expected within its linger, and sends them when that is up', () => {
    // Tiny jobs (or none measured yet): the next result may come at any moment.
    const { sink: s, published } = sink(0, 1);
    s.add('c', owner, result(1), false);
    nextTurn();
    vi.advanceTimersByTime(19);
    s.add('c', owner, result(2), false);
    expect(published).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(published).toEqual([[1, 2]]);
    // 50 ms jobs on 4 slots: a result every 12.5 ms, within the 20 ms linger.
    const four = sink(50, 4);
    four.sink.add('c', owner, result(3), false);
    nextTurn();
    expect(four.published).toEqual([]);
    vi.advanceTimersByTime(20);
    expect(four.published).toEqual([[3]]);
  });

  it('sends a batch at once when the next result is not expected before its linger is up', () => {
    // 50 ms jobs on one slot: nothing joins it in 20 ms, and no timer need wake the host.
    const { sink: s, published } = sink(50, 1);
    s.add('c', owner, result(1), false);
    nextTurn();
    expect(published).toEqual([[1]]);
    expect(vi.getTimerCount()).toBe(0);
    // 5 ms jobs: held while more are due within the linger, out with the last of them.
    const five = sink(5, 1);
    five.sink.add('c', owner, result(2), false);
    vi.advanceTimersByTime(5);
    five.sink.add('c', owner, result(3), false);
    vi.advanceTimersByTime(5);
    five.sink.add('c', owner, result(4), false);
    expect(five.published).toEqual([]);
    vi.advanceTimersByTime(5);
    five.sink.add('c', owner, result(5), false);
    nextTurn();
    expect(five.published).toEqual([[2, 3, 4, 5]]);
    // Its timer was stopped: nothing wakes the host for it.
    expect(vi.getTimerCount()).toBe(0);
  });
});

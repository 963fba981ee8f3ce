/**
 * `ResultAcks` on its own (no server): with ack-all, one ack covers a run of results (sent
 * after a delay or once enough are unacked), never one past a missed delivery; with explicit
 * acks every result is acked as read. Uses the built internals.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ACK_DELAY, ACK_EVERY, ResultAcks } from '#internal/nats/queue/result-acks.js';

interface FakeMsg {
  readonly msg: JsMsg;
  readonly acks: () => number;
}

/** A delivery of a result whose stream sequence is 100 + its delivery sequence. */
function delivery(deliverySequence: number, consumer = 'client-a'): FakeMsg {
  let acks = 0;
  const msg = {
    info: { consumer, deliverySequence },
    seq: 100 + deliverySequence,
    ack: () => {
      acks++;
    },
  } as unknown as JsMsg;
  return { msg, acks: () => acks };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ResultAcks with ack-all', () => {
  it('acks the latest of a run once, after the delay', () => {
    vi.useFakeTimers();
    const heard: number[] = [];
    const acks = new ResultAcks(true, 'client-a', (seq) => heard.push(seq));
    const run = [1, 2, 3].map((n) => delivery(n));
    for (const d of run) expect(acks.read(d.msg)).toBe(true);
    expect(run.map((d) => d.acks())).toEqual([0, 0, 0]);
    expect(acks.acked).toBe(0);
    vi.advanceTimersByTime(ACK_DELAY);
    expect(run.map((d) => d.acks())).toEqual([0, 0, 1]);
    expect(acks.acked).toBe(103);
    vi.advanceTimersByTime(ACK_DELAY * 5);
    expect(run.map((d) => d.acks())).toEqual([0, 0, 1]);
    expect(heard).toEqual([103]);
  });

  it(`acks at once when ${ACK_EVERY} results are unacked`, () => {
    vi.useFakeTimers();
    const acks = new ResultAcks(true, 'client-a');
    const run = Array.from({ length: ACK_EVERY + 1 }, (_, i) => delivery(i + 1));
    for (const d of run) acks.read(d.msg);
    expect(run.map((d) => d.acks()).reduce((a, b) => a + b)).toBe(1);
    expect(run[ACK_EVERY - 1]?.acks()).toBe(1);
    vi.advanceTimersByTime(ACK_DELAY);
    expect(run[ACK_EVERY]?.acks()).toBe(1);
  });

  it('never acks past a missed delivery, and says so', () => {
    vi.useFakeTimers();
    const acks = new ResultAcks(true, 'client-a');
    const first = delivery(1);
    const afterGap = delivery(3);
    const next = delivery(4);
    expect(acks.read(first.msg)).toBe(true);
    expect(acks.read(afterGap.msg)).toBe(false);
    // What came before the gap is acked at once; nothing from it on, ever.
    expect(first.acks()).toBe(1);
    expect(acks.read(next.msg)).toBe(false);
    vi.advanceTimersByTime(ACK_DELAY * 5);
    expect([afterGap.acks(), next.acks()]).toEqual([0, 0]);
    // A new consumer starts after the last result acked.
    expect(acks.acked).toBe(101);
  });

  it('counts a remade consumer from its first delivery, and ignores the old one', () => {
    vi.useFakeTimers();
    const acks = new ResultAcks(true, 'client-a');
    acks.read(delivery(2).msg);
    acks.reset('client-a-1');
    const late = delivery(3, 'client-a');
    const fresh = delivery(1, 'client-a-1');
    expect(acks.read(late.msg)).toBe(true);
    expect(acks.read(fresh.msg)).toBe(true);
    vi.advanceTimersByTime(ACK_DELAY);
    expect([late.acks(), fresh.acks()]).toEqual([0, 1]);
  });

  it('sends nothing once stopped', () => {
    vi.useFakeTimers();
    const acks = new ResultAcks(true, 'client-a');
    const d = delivery(1);
    acks.read(d.msg);
    acks.stop();
    vi.advanceTimersByTime(ACK_DELAY * 2);
    expect(d.acks()).toBe(0);
    // Deliveries that still come in after the stop arm no ack either.
    const later = Array.from({ length: 200 }, (_, n) => delivery(n + 2));
    for (const l of later) acks.read(l.msg);
    vi.advanceTimersByTime(ACK_DELAY * 2);
    expect(later.reduce((sum, l) => sum + l.acks(), 0)).toBe(0);
  });
});

describe('ResultAcks with explicit acks', () => {
  it('acks every result as it is read, gaps or not', () => {
    const acks = new ResultAcks(false, 'client-a');
    const run = [1, 5, 2].map((n) => delivery(n));
    for (const d of run) expect(acks.read(d.msg)).toBe(true);
    expect(run.map((d) => d.acks())).toEqual([1, 1, 1]);
    expect(acks.acked).toBe(0);
  });
});

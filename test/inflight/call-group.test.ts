import { setImmediate as tick } from 'node:timers/promises';
import { codeOf } from '../helpers/index.js';
import { describe, expect, it, vi } from 'vitest';
import {
  CallGroup,
  DuplicateOpIdError,
  GroupClosedError,
  GroupCompleteError,
  type CallResults,
} from '#internal/inflight/index.js';

/** A seeded shuffle, so a "random" interleaving is the same on every run. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('CallGroup', () => {
  it('completes once every op has finished, with each outcome keyed by id in add order', async () => {
    const onComplete = vi.fn<(results: CallResults<string, number>) => void>();
    const group = new CallGroup<string, number>(onComplete);
    const a = group.add('a', 'msg-a');
    const b = group.add('b', 'msg-b');
    const c = group.add('c', 'msg-c');

    expect(c.finish(null, 3)).toBe(true);
    expect(a.finish(undefined, 1)).toBe(true);
    expect(onComplete).not.toHaveBeenCalled();
    expect(group.outstanding).toBe(1);
    const failure = new Error('boom');
    b.finish(failure);

    expect(onComplete).toHaveBeenCalledTimes(1);
    const results = onComplete.mock.calls[0]?.[0];
    expect([...(results?.keys() ?? [])]).toEqual(['a', 'b', 'c']);
    expect(results?.get('a')).toEqual({ ok: true, op: a, result: 1 });
    expect(results?.get('b')).toEqual({ ok: false, op: b, error: failure });
    expect(results?.get('c')?.op.msg).toBe('msg-c');
    expect(await group.done).toBe(results);
    expect(group.state).toBe('complete');
  });

  it('treats a non-nullish error as a failure, whatever its type', async () => {
    const group = new CallGroup<null, string>();
    const [one, two] = [group.add(1, null), group.add(2, null)];
    one.finish('just a string');
    two.finish(0);
    const results = await group.done;
    expect(results.get(1)).toMatchObject({ ok: false, error: 'just a string' });
    expect(results.get(2)).toMatchObject({ ok: false, error: 0 });
  });

  it('keeps the first finish of an op and ignores later ones, without a second completion', async () => {
    const onComplete = vi.fn();
    const group = new CallGroup<string, string>(onComplete);
    const op = group.add('x', 'm');
    expect(op.finished).toBe(false);
    expect(op.finish(null, 'first')).toBe(true);
    expect(op.finished).toBe(true);
    expect(op.finish(new Error('late'))).toBe(false);
    expect(op.finish(null, 'again')).toBe(false);
    expect(onComplete).toHaveBeenCalledTimes(1);
    expect((await group.done).get('x')).toMatchObject({ ok: true, result: 'first' });
  });

  it('throws ERR_GROUP_COMPLETE on add after completion instead of orphaning the op', () => {
    const group = new CallGroup<number, number>();
    group.add(1, 1).finish(null, 1);
    expect(group.state).toBe('complete');
    expect(() => group.add(2, 2)).toThrow(GroupCompleteError);
    expect(codeOf(() => group.add(2, 2))).toBe('ERR_GROUP_COMPLETE');
  });

  it('throws ERR_GROUP_CLOSED on add after close() while ops are outstanding', () => {
    const group = new CallGroup<number, number>();
    const op = group.add(1, 1);
    group.close();
    expect(group.state).toBe('closed');
    expect(() => group.add(2, 2)).toThrow(GroupClosedError);
    expect(codeOf(() => group.add(2, 2))).toBe('ERR_GROUP_CLOSED');
    op.finish(null, 1);
    expect(codeOf(() => group.add(2, 2))).toBe('ERR_GROUP_COMPLETE');
  });

  it('throws ERR_GROUP_DUPLICATE_ID for an id it already holds, finished or not', () => {
    const group = new CallGroup<number, number>(undefined, { waitForClose: true });
    group.add(1, 1);
    expect(() => group.add(1, 1)).toThrow(DuplicateOpIdError);
    group.add(2, 2).finish(null, 2);
    expect(codeOf(() => group.add(2, 2))).toBe('ERR_GROUP_DUPLICATE_ID');
    expect(group.outstanding).toBe(1);
  });

  it('completes a group with zero ops on close(), exactly once', async () => {
    const onComplete = vi.fn();
    const group = new CallGroup(onComplete);
    await tick();
    expect(onComplete).not.toHaveBeenCalled();
    expect(group.state).toBe('open');
    group.close();
    group.close();
    expect(onComplete).toHaveBeenCalledTimes(1);
    expect((await group.done).size).toBe(0);
  });

  it('after close(), completes when the last outstanding op finishes', () => {
    const onComplete = vi.fn();
    const group = new CallGroup<number, number>(onComplete);
    const ops = [group.add(1, 1), group.add(2, 2)];
    group.close();
    ops[0]?.finish(null, 1);
    expect(onComplete).not.toHaveBeenCalled();
    ops[1]?.finish(null, 2);
    expect(onComplete).toHaveBeenCalledTimes(1);
  });

  it('without close(), completes as soon as the outstanding count drops to zero (Go semantics)', () => {
    const onComplete = vi.fn();
    const group = new CallGroup<number, number>(onComplete);
    const first = group.add(1, 1);
    const second = group.add(2, 2);
    first.finish(null, 1);
    expect(onComplete).not.toHaveBeenCalled();
    second.finish(null, 2);
    expect(onComplete).toHaveBeenCalledTimes(1);
    group.close(); // a late close() is harmless
    expect(onComplete).toHaveBeenCalledTimes(1);
  });

  it('with waitForClose, an early op finishing before the next add does not complete the group', () => {
    const onComplete = vi.fn();
    const group = new CallGroup<number, number>(onComplete, { waitForClose: true });
    group.add(1, 1).finish(null, 1);
    expect(group.state).toBe('open');
    group.add(2, 2).finish(null, 2);
    expect(onComplete).not.toHaveBeenCalled();
    group.close();
    expect(onComplete).toHaveBeenCalledTimes(1);
    expect(onComplete.mock.calls[0]?.[0]).toHaveProperty('size', 2);
  });

  it('completes exactly once when 1,000 finishes (each attempted twice) race across the event loop', async () => {
    const onComplete = vi.fn<(results: CallResults<number, number>) => void>();
    const group = new CallGroup<number, number>(onComplete);
    const ids = Array.from({ length: 1_000 }, (_, i) => i);
    const ops = ids.map((id) => group.add(id, id));
    const schedulers = [
      (fn: () => void) => {
        queueMicrotask(fn);
      },
      (fn: () => void) => setImmediate(fn),
      (fn: () => void) => setTimeout(fn, 0),
      (fn: () => void) => {
        process.nextTick(fn);
      },
    ];
    const attempts = shuffled([...ids, ...ids], 42);
    const settled = attempts.map(
      (id, i) =>
        new Promise<void>((resolve) => {
          const schedule = schedulers[i % schedulers.length];
          schedule?.(() => {
            ops[id]?.finish(id % 7 === 0 ? new Error(`e${id}`) : null, id * 2);
            resolve();
          });
        }),
    );
    group.close(); // racing with the finishes: must not complete early or twice
    await Promise.all(settled);

    expect(onComplete).toHaveBeenCalledTimes(1);
    const results = await group.done;
    expect(results).toBe(onComplete.mock.calls[0]?.[0]);
    expect(results.size).toBe(1_000);
    for (const id of ids) {
      const outcome = results.get(id);
      if (id % 7 === 0) expect(outcome).toMatchObject({ ok: false });
      else expect(outcome).toMatchObject({ ok: true, result: id * 2 });
    }
  });

  it('marks itself complete before onComplete runs, so a throwing callback cannot complete it twice', async () => {
    const group = new CallGroup<number, number>(() => {
      throw new Error('callback bug');
    });
    const op = group.add(1, 1);
    expect(() => op.finish(null, 1)).toThrow('callback bug');
    expect(op.finish(null, 2)).toBe(false);
    expect(group.state).toBe('complete');
    expect((await group.done).get(1)).toMatchObject({ result: 1 });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AbortError } from 'corral';
import { WaiterQueue } from '#internal/util/waiters.js';

/** Settles pending promise callbacks. */
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('WaiterQueue', () => {
  it('serves waiters oldest first and counts the ones queued', async () => {
    const q = new WaiterQueue<string>();
    const a = q.wait();
    const b = q.wait();
    const c = q.wait();
    expect(q.length).toBe(3);
    q.shift()?.resolve('1');
    q.shift()?.resolve('2');
    expect(q.length).toBe(1);
    q.shift()?.resolve('3');
    expect(q.shift()).toBeUndefined();
    expect(await Promise.all([a, b, c])).toEqual(['1', '2', '3']);
  });

  it('a waiter whose signal aborts leaves the queue at once; the others keep their order', async () => {
    const q = new WaiterQueue<number>();
    const controller = new AbortController();
    const first = q.wait();
    const middle = q.wait(controller.signal);
    const last = q.wait();
    controller.abort('gone');
    expect(q.length).toBe(2);
    const error: unknown = await middle.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).cause).toBe('gone');
    q.shift()?.resolve(1);
    q.shift()?.resolve(3);
    expect(await Promise.all([first, last])).toEqual([1, 3]);
    expect(q.length).toBe(0);
  });

  it('a waiter aborted after it was shifted is settled: answering it does nothing', async () => {
    const q = new WaiterQueue<number>();
    const controller = new AbortController();
    const p = q.wait(controller.signal);
    const waiter = q.shift();
    expect(waiter?.settled).toBe(false);
    controller.abort();
    expect(waiter?.settled).toBe(true);
    expect(waiter?.resolve(5)).toBe(false);
    await expect(p).rejects.toBeInstanceOf(AbortError);
  });

  it('answers a waiter once: the second answer returns false and changes nothing', async () => {
    const q = new WaiterQueue<number>();
    const p = q.wait();
    const waiter = q.shift();
    expect(waiter?.resolve(1)).toBe(true);
    expect(waiter?.reject(new Error('late'))).toBe(false);
    expect(waiter?.resolve(2)).toBe(false);
    expect(await p).toBe(1);
  });

  it('a withdrawn callback waiter is never answered; withdrawing after the answer does nothing', async () => {
    const q = new WaiterQueue<number>();
    const got: string[] = [];
    const withdrawA = q.add(
      (v) => got.push(`a:${v}`),
      () => got.push('a:error'),
    );
    const withdrawB = q.add(
      (v) => got.push(`b:${v}`),
      () => got.push('b:error'),
    );
    withdrawA();
    expect(q.length).toBe(1);
    q.shift()?.resolve(2);
    withdrawB();
    q.rejectAll(new Error('closed'));
    await flush();
    expect(got).toEqual(['b:2']);
  });

  it('rejectAll rejects every queued waiter, oldest first, and empties the queue', async () => {
    const q = new WaiterQueue<number>();
    const order: number[] = [];
    const ps = [0, 1, 2].map((i) =>
      q.wait().catch((e: unknown) => {
        order.push(i);
        return e;
      }),
    );
    const error = new Error('closed');
    q.rejectAll(error);
    expect(q.length).toBe(0);
    expect(await Promise.all(ps)).toEqual([error, error, error]);
    expect(order).toEqual([0, 1, 2]);
  });

  it('drain hands out every queued waiter, oldest first, still unanswered', async () => {
    const q = new WaiterQueue<number | undefined>();
    const ps = [q.wait(), q.wait()];
    const drained = q.drain();
    expect(q.length).toBe(0);
    expect(drained.map((w) => w.settled)).toEqual([false, false]);
    drained.forEach((w, i) => w.resolve(i));
    expect(await Promise.all(ps)).toEqual([0, 1]);
  });

  it('withdrawIf drops the waiters of one tag, unanswered, and keeps the rest in order', async () => {
    const q = new WaiterQueue<number, string>();
    const got: string[] = [];
    for (const tag of ['t1', 'dead', 't2', 'dead', 't3']) {
      q.add(
        (v) => got.push(`${tag}:${v}`),
        () => got.push(`${tag}:error`),
        tag,
      );
    }
    q.withdrawIf((tag) => tag === 'dead');
    expect(q.length).toBe(3);
    for (let w = q.shift(), i = 1; w !== undefined; w = q.shift(), i++) {
      expect(w.tag).toBe(`t${i}`);
      w.resolve(i);
    }
    await flush();
    expect(got).toEqual(['t1:1', 't2:2', 't3:3']);
  });

  it('a signal aborted already rejects without queueing', async () => {
    const q = new WaiterQueue<number>();
    const p = q.wait(AbortSignal.abort());
    expect(q.length).toBe(0);
    await expect(p).rejects.toBeInstanceOf(AbortError);
  });

  it('behaves as a FIFO with removals, for any sequence of adds, shifts and withdrawals', () => {
    type Step = { op: 'add' } | { op: 'shift' } | { op: 'withdraw'; pick: number };
    const step = fc.oneof(
      fc.constant<Step>({ op: 'add' }),
      fc.constant<Step>({ op: 'shift' }),
      fc.nat(50).map<Step>((pick) => ({ op: 'withdraw', pick })),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const q = new WaiterQueue<never, number>();
        const model: number[] = [];
        const withdraws = new Map<number, () => void>();
        let next = 0;
        for (const s of steps) {
          if (s.op === 'add') {
            const id = next++;
            withdraws.set(
              id,
              q.add(
                () => undefined,
                () => undefined,
                id,
              ),
            );
            model.push(id);
          } else if (s.op === 'shift') {
            expect(q.shift()?.tag).toBe(model.shift());
          } else if (next > 0) {
            const id = s.pick % next;
            withdraws.get(id)?.();
            const at = model.indexOf(id);
            if (at !== -1) model.splice(at, 1);
          }
          expect(q.length).toBe(model.length);
        }
        expect(q.drain().map((w) => w.tag)).toEqual(model);
      }),
    );
  });
});

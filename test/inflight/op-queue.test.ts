import { setImmediate as tick } from 'node:timers/promises';
import { codeOf } from '../helpers/index.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  OpQueue,
  QueueClosedError,
  QueueDepthError,
  QueueWidthError,
} from '#internal/inflight/index.js';

/** Dequeues what is there right now, as `id:op,op` strings, without waiting. */
async function drainNow(q: OpQueue<number, string>): Promise<string[]> {
  const out: string[] = [];
  while (q.size > 0) {
    const set = await q.dequeue();
    if (set !== undefined) out.push(`${set.id}:${set.ops.join(',')}`);
  }
  return out;
}

describe('OpQueue', () => {
  it.each([
    [{ depth: 0, width: 1 }, "option 'depth' must be a positive integer; received number 0"],
    [{ depth: 1, width: 1.5 }, "option 'width' must be a positive integer; received number 1.5"],
    [{ depth: '3', width: 1 }, "option 'depth' must be a positive integer; received '3'"],
    [{ depth: 1 }, "option 'width' must be a positive integer; received undefined"],
    [{ depth: Infinity, width: 1 }, "option 'depth' must be a positive integer; received number"],
  ])('rejects options %o, naming the option and the value', (options, message) => {
    // @ts-expect-error: deliberately wrong options, as plain JavaScript could pass
    const create = (): unknown => new OpQueue(options);
    expect(codeOf(create)).toBe('ERR_INVALID_OPTION');
    expect(create).toThrow(message);
  });

  it('de-duplicates by id while queued and hands sets out in first-arrival order', async () => {
    const q = new OpQueue<number, string>({ depth: 10, width: 10 });
    q.enqueue('a', 1);
    q.enqueue('b', 2);
    q.enqueue('a', 3);
    q.enqueue('c', 4);
    q.enqueue('b', 5);
    expect(q.size).toBe(3);
    expect(await drainNow(q)).toEqual(['a:1,3', 'b:2,5', 'c:4']);
  });

  it('starts a new set at the tail for an id enqueued again after its set was dequeued', async () => {
    const q = new OpQueue<number, string>({ depth: 10, width: 10 });
    q.enqueue('a', 1);
    q.enqueue('b', 2);
    expect((await q.dequeue())?.ops).toEqual([1]);
    q.enqueue('a', 3);
    q.enqueue('b', 4);
    expect(await drainNow(q)).toEqual(['b:2,4', 'a:3']);
  });

  it('throws ERR_QUEUE_WIDTH when an id already holds width ops, and keeps the set intact', async () => {
    const q = new OpQueue<number, string>({ depth: 10, width: 2 });
    q.enqueue('a', 1);
    q.enqueue('a', 2);
    expect(() => {
      q.enqueue('a', 3);
    }).toThrow(QueueWidthError);
    expect(
      codeOf(() => {
        q.enqueue('a', 3);
      }),
    ).toBe('ERR_QUEUE_WIDTH');
    q.enqueue('b', 4);
    expect(await drainNow(q)).toEqual(['a:1,2', 'b:4']);
  });

  it('throws ERR_QUEUE_DEPTH for a new id when depth ids are queued, but still accepts queued ids', async () => {
    const q = new OpQueue<number, string>({ depth: 2, width: 5 });
    q.enqueue('a', 1);
    q.enqueue('b', 2);
    expect(() => {
      q.enqueue('c', 3);
    }).toThrow(QueueDepthError);
    expect(
      codeOf(() => {
        q.enqueue('c', 3);
      }),
    ).toBe('ERR_QUEUE_DEPTH');
    q.enqueue('a', 4);
    await q.dequeue();
    q.enqueue('c', 5); // a slot came free
    expect(await drainNow(q)).toEqual(['b:2', 'c:5']);
  });

  it('throws ERR_QUEUE_CLOSED on enqueue after close(), also for an id that is queued', () => {
    const q = new OpQueue<number, string>({ depth: 2, width: 2 });
    q.enqueue('a', 1);
    q.close();
    expect(q.closed).toBe(true);
    expect(() => {
      q.enqueue('a', 2);
    }).toThrow(QueueClosedError);
    expect(
      codeOf(() => {
        q.enqueue('b', 2);
      }),
    ).toBe('ERR_QUEUE_CLOSED');
  });

  it('makes dequeue() wait while empty, and treats a set handed to a waiter as dequeued', async () => {
    const q = new OpQueue<number, string>({ depth: 10, width: 10 });
    let got: unknown;
    const waiting = q.dequeue().then((set) => (got = set));
    await tick();
    expect(got).toBeUndefined();
    q.enqueue('a', 1);
    q.enqueue('a', 2); // the first set already went to the waiter: this starts a new one
    await waiting;
    expect(got).toEqual({ id: 'a', ops: [1] });
    expect(await drainNow(q)).toEqual(['a:2']);
  });

  it('serves waiting dequeuers in the order they called', async () => {
    const q = new OpQueue<number, string>({ depth: 10, width: 10 });
    const waiters = [q.dequeue(), q.dequeue(), q.dequeue()];
    q.enqueue('x', 1);
    q.enqueue('y', 2);
    q.enqueue('z', 3);
    expect((await Promise.all(waiters)).map((set) => set?.id)).toEqual(['x', 'y', 'z']);
  });

  it('drains what is left after close(), then resolves undefined', async () => {
    const q = new OpQueue<number, string>({ depth: 10, width: 10 });
    q.enqueue('a', 1);
    q.enqueue('b', 2);
    q.close();
    q.close();
    expect((await q.dequeue())?.id).toBe('a');
    expect((await q.dequeue())?.id).toBe('b');
    expect(await q.dequeue()).toBeUndefined();
    expect(await q.dequeue()).toBeUndefined();
  });

  it('wakes all 12 waiting dequeuers on close()', async () => {
    const q = new OpQueue<number, string>({ depth: 10, width: 10 });
    const waiters = Array.from({ length: 12 }, () => q.dequeue());
    await tick();
    q.close();
    expect(await Promise.all(waiters)).toEqual(Array.from({ length: 12 }, () => undefined));
  });

  it('is an async iterable that ends after close() and drain', async () => {
    const q = new OpQueue<number, string>({ depth: 10, width: 10 });
    const seen: string[] = [];
    const consumer = (async () => {
      for await (const set of q) seen.push(`${set.id}:${set.ops.join(',')}`);
    })();
    q.enqueue('a', 1);
    await tick();
    q.enqueue('b', 2); // the loop is waiting, so this set goes straight to it...
    q.enqueue('b', 3); // ...and this one starts a new set
    q.enqueue('c', 4);
    q.enqueue('c', 5);
    q.close();
    await consumer;
    expect(seen).toEqual(['a:1', 'b:2', 'b:3', 'c:4,5']);
  });

  it('loses nothing and stays open when a for-await loop breaks', async () => {
    const q = new OpQueue<number, string>({ depth: 10, width: 10 });
    for (const [id, op] of [
      ['a', 1],
      ['b', 2],
      ['c', 3],
      ['b', 4],
    ] as const)
      q.enqueue(id, op);
    const first: string[] = [];
    for await (const set of q) {
      first.push(set.id);
      break;
    }
    expect(first).toEqual(['a']);
    expect(q.closed).toBe(false);
    q.enqueue('b', 5); // still queued, so it joins b's set
    const rest: string[] = [];
    q.close();
    for await (const set of q) rest.push(`${set.id}:${set.ops.join(',')}`);
    expect(rest).toEqual(['b:2,4,5', 'c:3']);
  });

  it('rejects an aborted dequeue() with AbortError and gives the next set to the next waiter', async () => {
    const q = new OpQueue<number, string>({ depth: 10, width: 10 });
    const reason = new Error('stop waiting');
    await expect(q.dequeue({ signal: AbortSignal.abort(reason) })).rejects.toMatchObject({
      code: 'ABORT_ERR',
      name: 'AbortError',
      cause: reason,
    });
    const controller = new AbortController();
    const aborted = q.dequeue({ signal: controller.signal });
    const next = q.dequeue();
    controller.abort(reason);
    await expect(aborted).rejects.toMatchObject({ code: 'ABORT_ERR' });
    q.enqueue('a', 1);
    expect(await next).toEqual({ id: 'a', ops: [1] });
  });

  it('keeps first-arrival order across thousands of sets (exercises the compaction of spent slots)', async () => {
    const q = new OpQueue<number, number>({ depth: 5_000, width: 2 });
    let next = 0;
    const expected: number[] = [];
    for (let i = 0; i < 3_000; i++) q.enqueue(next, next++);
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 1_500; i++) expected.push((await q.dequeue())?.id ?? -1);
      for (let i = 0; i < 1_500; i++) q.enqueue(next, next++);
    }
    q.close();
    for await (const set of q) expected.push(set.id);
    expect(expected).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  it('matches a simple model for any sequence of enqueues and dequeues', async () => {
    type Step = { kind: 'enqueue'; id: string } | { kind: 'dequeue' };
    const step = fc.oneof(
      fc.record({ kind: fc.constant('enqueue' as const), id: fc.constantFrom('a', 'b', 'c', 'd') }),
      fc.record({ kind: fc.constant('dequeue' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps: Step[]) => {
        const q = new OpQueue<number, string>({ depth: 3, width: 2 });
        const model: { id: string; ops: number[] }[] = [];
        for (const [n, s] of steps.entries()) {
          if (s.kind === 'dequeue') {
            if (model.length === 0) continue; // would wait
            expect(await q.dequeue()).toEqual(model.shift());
            continue;
          }
          const set = model.find((m) => m.id === s.id);
          const code = codeOf(() => {
            q.enqueue(s.id, n);
          });
          if (set !== undefined && set.ops.length >= 2) expect(code).toBe('ERR_QUEUE_WIDTH');
          else if (set === undefined && model.length >= 3) expect(code).toBe('ERR_QUEUE_DEPTH');
          else {
            expect(code).toBeUndefined();
            if (set !== undefined) set.ops.push(n);
            else model.push({ id: s.id, ops: [n] });
          }
          expect(q.size).toBe(model.length);
        }
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});

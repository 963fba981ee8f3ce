/**
 * KeyedQueue with priorities, against a model: every job it takes may start (its key has
 * room), has the highest priority among the jobs that may start, and is the first of that
 * priority in its own FIFO; it never holds back a job that may start; counts stay right.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '#internal/keyed/keyed-queue.js';
import { KeyTable, type KeyState } from '#internal/keyed/key-table.js';

interface FakeJob {
  readonly id: number;
  readonly key: string | undefined;
  readonly keyState: KeyState | undefined;
  readonly priority: number;
  settled: boolean;
}

const KEYS = [undefined, 'a', 'b', 'c'] as const;

const op = fc.oneof(
  fc.record({
    op: fc.constant('add' as const),
    key: fc.constantFrom(...KEYS),
    priority: fc.constantFrom(0, 0, 1, 5, -3),
  }),
  fc.record({ op: fc.constant('next' as const) }),
  fc.record({ op: fc.constant('give' as const), key: fc.constantFrom('a', 'b', 'c') }),
  fc.record({ op: fc.constant('abort' as const), at: fc.nat() }),
);

describe('KeyedQueue with priorities', () => {
  it('takes the most urgent job that may start, FIFO among equals, never over a target', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const table = new KeyTable(1, () => undefined); // every key: one job at a time
        const queue = new KeyedQueue(table);
        const waiting: FakeJob[] = []; // in the order added
        const active = new Map<string, number>();
        let id = 0;
        for (const step of ops) {
          if (step.op === 'add') {
            const job: FakeJob = {
              id: id++,
              key: step.key,
              keyState: step.key === undefined ? undefined : table.get(step.key),
              priority: step.priority,
              settled: false,
            };
            waiting.push(job);
            queue.add(job);
          } else if (step.op === 'abort') {
            const job = waiting[step.at % Math.max(1, waiting.length)];
            if (job === undefined) continue;
            job.settled = true;
            waiting.splice(waiting.indexOf(job), 1);
            queue.removed(job);
          } else if (step.op === 'give') {
            if ((active.get(step.key) ?? 0) === 0) continue;
            active.set(step.key, (active.get(step.key) ?? 0) - 1);
            const state = table.get(step.key);
            table.give(state);
            queue.roomFreed(state);
          } else {
            const startable = waiting.filter(
              (j) => j.key === undefined || (active.get(j.key) ?? 0) === 0,
            );
            const job = queue.next() as FakeJob | undefined;
            if (startable.length === 0) {
              expect(job).toBeUndefined();
              continue;
            }
            expect(job).toBeDefined();
            if (job === undefined) continue;
            const best = Math.max(...startable.map((j) => j.priority));
            expect(job.priority).toBe(best);
            // First of its priority among its own key's (or the unkeyed) waiting jobs.
            const mine = waiting.filter((j) => j.key === job.key && j.priority === best);
            expect(mine[0]).toBe(job);
            waiting.splice(waiting.indexOf(job), 1);
            if (job.key !== undefined) active.set(job.key, (active.get(job.key) ?? 0) + 1);
          }
          expect(queue.length).toBe(waiting.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '#internal/keyed/keyed-queue.js';
import { KeyTable, UNLIMITED, type KeyState } from '#internal/keyed/key-table.js';

type Job = Parameters<KeyedQueue['add']>[0];

/**
 * The part of a job the queue reads: its key's state and whether it has settled. The
 * real Job is built by the engine; these tests drive the queue as the engine does
 * (settle a queued job, then count it out with `removed`).
 */
interface FakeJob {
  readonly name: string;
  readonly keyState: KeyState | undefined;
  readonly priority: number;
  settled: boolean;
}

const asJob = (job: FakeJob): Job => job;
const nameOf = (job: Job | undefined): string | undefined =>
  job === undefined ? undefined : (job as unknown as FakeJob).name;

/** A queue over a fresh table whose keys get `defaultTarget` until told otherwise. */
function setup(defaultTarget = UNLIMITED) {
  const table = new KeyTable(defaultTarget, () => undefined);
  const queue = new KeyedQueue(table);
  /** Makes a job of `key` (undefined: unkeyed) named `name` and adds it. */
  const add = (name: string, key?: string, head = false): FakeJob => {
    const job: FakeJob = {
      name,
      keyState: key === undefined ? undefined : table.get(key),
      priority: 0,
      settled: false,
    };
    queue.add(asJob(job), head);
    return job;
  };
  /** Settles a queued job where it stands, as an abort does. */
  const settle = (job: FakeJob): void => {
    job.settled = true;
    queue.removed(asJob(job));
  };
  /** A job of `key` left its thread. */
  const give = (key: string): void => {
    const state = table.get(key);
    table.give(state);
    queue.roomFreed(state);
  };
  /** Names of the next `n` jobs taken (undefined once the queue has none to give). */
  const take = (n: number): (string | undefined)[] =>
    Array.from({ length: n }, () => nameOf(queue.next()));
  const visited = (): string[] => {
    const out: string[] = [];
    queue.forEach((job) => out.push(nameOf(job) ?? '?'));
    return out;
  };
  return { table, queue, add, settle, give, take, visited };
}

describe('KeyedQueue', () => {
  it('serves unkeyed jobs in FIFO order and counts them', () => {
    const { queue, add, take } = setup();
    expect(queue.next()).toBeUndefined();
    add('u1');
    add('u2');
    add('u3');
    expect(queue.length).toBe(3);
    expect(take(4)).toEqual(['u1', 'u2', 'u3', undefined]);
    expect(queue.length).toBe(0);
  });

  it('serves keys in turn, so a key with many jobs does not hold back a key with one', () => {
    const { queue, add, take } = setup();
    for (let i = 1; i <= 5; i++) add(`a${i}`, 'a');
    add('b1', 'b');
    add('c1', 'c');
    add('c2', 'c');
    expect(queue.length).toBe(8);
    expect(take(9)).toEqual(['a1', 'b1', 'c1', 'a2', 'c2', 'a3', 'a4', 'a5', undefined]);
  });

  it('treats the unkeyed FIFO as one member of the ring', () => {
    const { add, take } = setup();
    add('u1');
    add('u2');
    add('u3');
    add('a1', 'a');
    add('a2', 'a');
    add('b1', 'b');
    expect(take(7)).toEqual(['u1', 'a1', 'b1', 'u2', 'a2', 'u3', undefined]);
  });

  it('skips a key at its target and takes one unit of it per job served', () => {
    const { table, queue, add, take } = setup();
    table.setTarget(table.get('a'), 1);
    add('a1', 'a');
    add('a2', 'a');
    add('b1', 'b');
    add('u1');
    expect(take(4)).toEqual(['a1', 'b1', 'u1', undefined]);
    expect(table.active(table.get('a'))).toBe(1);
    expect(table.active(table.get('b'))).toBe(1);
    // Held back by its target, a2 still counts as waiting.
    expect(queue.length).toBe(1);
    add('a3', 'a');
    expect(queue.length).toBe(2);
    expect(queue.next()).toBeUndefined();
  });

  it('takes a key back into the ring when a unit is given back or its target rises', () => {
    const { table, queue, add, give, take } = setup();
    const a = table.get('a');
    table.setTarget(a, 1);
    add('a1', 'a');
    add('a2', 'a');
    add('a3', 'a');
    expect(take(2)).toEqual(['a1', undefined]);
    give('a');
    expect(take(2)).toEqual(['a2', undefined]);
    table.setTarget(a, 2);
    queue.roomFreed(a);
    expect(take(2)).toEqual(['a3', undefined]);
    expect(table.active(a)).toBe(2);
  });

  it('pauses a key at target 0 and drops a key whose target was lowered while it sat in the ring', () => {
    const { table, queue, add, give, take } = setup();
    const a = table.get('a');
    table.setTarget(a, 0);
    add('a1', 'a');
    add('b1', 'b');
    add('b2', 'b');
    expect(take(3)).toEqual(['b1', 'b2', undefined]);
    table.setTarget(a, 1);
    queue.roomFreed(a);
    // a is in the ring now, ahead of b; lower its target again before it is reached.
    add('b3', 'b');
    table.setTarget(a, 0);
    expect(take(2)).toEqual(['b3', undefined]);
    table.setTarget(a, 1);
    queue.roomFreed(a);
    expect(take(2)).toEqual(['a1', undefined]);
    give('a');
    expect(queue.length).toBe(0);
  });

  it('skips settled jobs as tombstones, keyed or not, and counts them out at once', () => {
    const { queue, add, settle, take, visited } = setup();
    add('u1');
    const u2 = add('u2');
    add('u3');
    const a1 = add('a1', 'a');
    add('a2', 'a');
    const b1 = add('b1', 'b');
    settle(u2);
    settle(a1);
    settle(b1);
    expect(queue.length).toBe(3);
    expect(visited()).toEqual(['u1', 'u3', 'a2']);
    expect(take(4)).toEqual(['u1', 'a2', 'u3', undefined]);
    expect(queue.length).toBe(0);
  });

  it('puts a retry first in its own FIFO, not ahead of other keys', () => {
    const { add, take } = setup();
    add('u1');
    add('a1', 'a');
    add('a2', 'a');
    add('a0', 'a', true);
    add('u0', undefined, true);
    expect(take(6)).toEqual(['u0', 'a0', 'u1', 'a1', 'a2', undefined]);
  });

  it('visits every unsettled queued job with forEach, and none that was taken', () => {
    const { add, settle, take, visited } = setup();
    add('u1');
    add('a1', 'a');
    add('a2', 'a');
    const b1 = add('b1', 'b');
    add('b2', 'b');
    expect(take(1)).toEqual(['u1']);
    settle(b1);
    // Unkeyed first, then each key's FIFO in the order keys were first seen.
    expect(visited()).toEqual(['a1', 'a2', 'b2']);
  });

  it('drains its unsettled jobs, leaves the counting out to the caller, and works again after', () => {
    const { table, queue, add, settle, take } = setup();
    table.setTarget(table.get('b'), 0);
    add('u1');
    add('a1', 'a');
    add('a2', 'a');
    add('b1', 'b');
    const u2 = add('u2');
    settle(u2);
    const drained = queue.drain();
    // b was seen first (by setTarget), so its FIFO comes before a's.
    expect(drained.map(nameOf)).toEqual(['u1', 'b1', 'a1', 'a2']);
    expect(queue.length).toBe(4);
    for (const job of drained) settle(job as unknown as FakeJob);
    expect(queue.length).toBe(0);
    expect(queue.next()).toBeUndefined();
    // Keys left the ring with the drain, so new jobs bring them back.
    add('a3', 'a');
    add('u3');
    add('c1', 'c');
    expect(take(4)).toEqual(['a3', 'u3', 'c1', undefined]);
  });
});

// A model of the queue's contract, checked against random sequences of what the engine does.
// Asserts with node:assert here: vitest's expect costs ~50 µs a call, and this loop makes ~300k.

const KEYS = ['a', 'b', 'c'] as const;
/** Members of the ring: the keys, then the unkeyed FIFO. */
const UNKEYED = KEYS.length;
const MEMBERS = KEYS.length + 1;
const TARGETS = [0, 1, 2, 3, UNLIMITED];

type Step =
  | { op: 'add'; member: number; head: boolean }
  | { op: 'next' }
  | { op: 'settle'; i: number }
  | { op: 'finish'; i: number }
  | { op: 'lease'; k: number }
  | { op: 'setTarget'; k: number; target: number }
  | { op: 'drain' };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      member: fc.nat(MEMBERS - 1),
      head: fc.boolean(),
    }),
  },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('next' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('settle' as const), i: fc.nat(50) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('finish' as const), i: fc.nat(50) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('lease' as const), k: fc.nat(KEYS.length - 1) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('setTarget' as const),
      k: fc.nat(KEYS.length - 1),
      target: fc.constantFrom(...TARGETS),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drain' as const) }) },
);

describe('KeyedQueue against a model', () => {
  it('serves each member FIFO, only with room, never idles with work it may start, counts right, and makes no eligible member wait more than one turn', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...TARGETS), { minLength: KEYS.length, maxLength: KEYS.length }),
        fc.array(step, { maxLength: 200, size: 'max' }),
        (initialTargets, steps) => {
          const table = new KeyTable(UNLIMITED, () => undefined);
          const queue = new KeyedQueue(table);
          const states = KEYS.map((key) => table.get(key));
          const state = (k: number): KeyState => states[k] as KeyState;
          const targets = [...initialTargets];
          targets.forEach((t, k) => {
            table.setTarget(state(k), t);
          });
          /** Unsettled queued jobs per member, in the order they must be served. */
          const fifo: FakeJob[][] = Array.from({ length: MEMBERS }, () => []);
          /** Units held per key (jobs taken and leases). */
          const active = KEYS.map(() => 0);
          /** Keyed jobs taken and leases, as key indexes: what `finish` gives back. */
          const holding: number[] = [];
          /** Serves of other members since each member last became eligible or was served. */
          const passedOver = Array.from({ length: MEMBERS }, () => 0);
          let made = 0;

          const memberOf = (job: FakeJob): number => {
            const s = job.keyState;
            return s === undefined ? UNKEYED : states.indexOf(s);
          };
          const eligible = (m: number): boolean =>
            (fifo[m]?.length ?? 0) > 0 && (m === UNKEYED || (active[m] ?? 0) < (targets[m] ?? 0));
          const queued = (): FakeJob[] => fifo.flat();
          /** Names of the queued jobs in forEach and drain order: unkeyed, then each key's. */
          const inOrder = (): string[] =>
            [...(fifo[UNKEYED] ?? []), ...fifo.slice(0, UNKEYED).flat()].map((j) => j.name);
          const check = (): void => {
            assert.equal(queue.length, queued().length);
            KEYS.forEach((_, k) => {
              assert.equal(table.active(state(k)), active[k]);
              assert.equal(state(k).queued, fifo[k]?.length);
            });
            // forEach: the unkeyed FIFO, then each key's, each in service order.
            const seen: (string | undefined)[] = [];
            queue.forEach((job) => seen.push(nameOf(job)));
            assert.deepEqual(seen, inOrder());
          };

          for (const s of steps) {
            const wasEligible = Array.from({ length: MEMBERS }, (_, m) => eligible(m));
            switch (s.op) {
              case 'add': {
                const job: FakeJob = {
                  name: `j${made++}`,
                  keyState: s.member === UNKEYED ? undefined : state(s.member),
                  priority: 0,
                  settled: false,
                };
                queue.add(asJob(job), s.head);
                if (s.head) fifo[s.member]?.unshift(job);
                else fifo[s.member]?.push(job);
                break;
              }
              case 'next': {
                const job = queue.next() as unknown as FakeJob | undefined;
                if (job === undefined) {
                  // Work-conserving: nothing it may start is left waiting.
                  assert.ok(
                    !wasEligible.includes(true),
                    'next() gave nothing while a member could start',
                  );
                  break;
                }
                const m = memberOf(job);
                assert.equal(wasEligible[m], true);
                const list = fifo[m] ?? [];
                assert.equal(list[0], job);
                list.shift();
                if (m !== UNKEYED) {
                  active[m] = (active[m] ?? 0) + 1;
                  holding.push(m);
                }
                // Round robin: an eligible member sees each other member served at most once first.
                for (let other = 0; other < MEMBERS; other++) {
                  if (other === m || !wasEligible[other]) continue;
                  passedOver[other] = (passedOver[other] ?? 0) + 1;
                  assert.ok(
                    (passedOver[other] ?? 0) < MEMBERS,
                    'an eligible member waited more than one turn',
                  );
                }
                passedOver[m] = 0;
                break;
              }
              case 'settle': {
                const all = queued();
                const job = all[s.i % Math.max(all.length, 1)];
                if (job === undefined) break;
                job.settled = true;
                queue.removed(asJob(job));
                const list = fifo[memberOf(job)] ?? [];
                list.splice(list.indexOf(job), 1);
                break;
              }
              case 'finish': {
                const [k] = holding.splice(s.i % Math.max(holding.length, 1), 1);
                if (k === undefined) break;
                table.give(state(k));
                queue.roomFreed(state(k));
                active[k] = (active[k] ?? 0) - 1;
                break;
              }
              case 'lease':
                // A lease takes a unit outside the queue, as the lease broker does.
                if (!table.hasRoom(state(s.k))) break;
                table.take(state(s.k));
                active[s.k] = (active[s.k] ?? 0) + 1;
                holding.push(s.k);
                break;
              case 'setTarget':
                table.setTarget(state(s.k), s.target);
                queue.roomFreed(state(s.k));
                targets[s.k] = s.target;
                break;
              case 'drain': {
                const order = inOrder();
                const drained = queue.drain() as unknown as FakeJob[];
                assert.deepEqual(
                  drained.map((job) => job.name),
                  order,
                );
                for (const job of drained) {
                  job.settled = true;
                  queue.removed(asJob(job));
                }
                for (const list of fifo) list.length = 0;
                break;
              }
            }
            for (let m = 0; m < MEMBERS; m++) if (!eligible(m)) passedOver[m] = 0;
            check();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

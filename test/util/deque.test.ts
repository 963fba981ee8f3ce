import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deque } from '#internal/util/deque.js';

/** One step: several pushes, unshifts or shifts in a row, so the buffer fills and wraps. */
type Op =
  | { op: 'push'; values: number[] }
  | { op: 'unshift'; values: number[] }
  | { op: 'shift'; count: number }
  | { op: 'peek' }
  | { op: 'drain' };

const values = fc.array(fc.integer(), { minLength: 1, maxLength: 24, size: 'max' });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('push' as const), values }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('unshift' as const), values }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('shift' as const),
      count: fc.integer({ min: 1, max: 24 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('peek' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drain' as const) }) },
);

/** Everything `forEach` visits, in order. */
function contents<T>(deque: Deque<T>): T[] {
  const out: T[] = [];
  deque.forEach((item) => out.push(item));
  return out;
}

describe('Deque', () => {
  it('is empty when new: length 0, shift and peek give undefined, drain gives []', () => {
    const deque = new Deque<string>();
    expect(deque.length).toBe(0);
    expect(deque.shift()).toBeUndefined();
    expect(deque.peek()).toBeUndefined();
    expect(deque.drain()).toEqual([]);
    expect(contents(deque)).toEqual([]);
  });

  it('is FIFO through push/shift and LIFO through unshift/shift', () => {
    const fifo = new Deque<number>();
    for (let i = 0; i < 5; i++) fifo.push(i);
    expect([fifo.shift(), fifo.shift(), fifo.shift()]).toEqual([0, 1, 2]);
    const lifo = new Deque<number>();
    for (let i = 0; i < 5; i++) lifo.unshift(i);
    expect(lifo.drain()).toEqual([4, 3, 2, 1, 0]);
  });

  it('keeps order across growth while the items wrap around the end of the buffer', () => {
    const deque = new Deque<number>();
    // Move the head to the middle of the first 16 slots, then fill past capacity from both ends.
    for (let i = 0; i < 10; i++) deque.push(-1);
    for (let i = 0; i < 10; i++) deque.shift();
    for (let i = 0; i < 20; i++) deque.push(i);
    for (let i = 1; i <= 20; i++) deque.unshift(-i);
    expect(deque.length).toBe(40);
    expect(deque.peek()).toBe(-20);
    const expected = [
      ...Array.from({ length: 20 }, (_, i) => i - 20),
      ...Array.from({ length: 20 }, (_, i) => i),
    ];
    expect(contents(deque)).toEqual(expected);
    expect(deque.drain()).toEqual(expected);
    expect(deque.length).toBe(0);
  });

  it('accepts any initial capacity, and grows past it', () => {
    for (const capacity of [0, 1, 15, 16, 17, 100]) {
      const deque = new Deque<number>(capacity);
      const n = capacity + 40;
      for (let i = 0; i < n; i++) deque.push(i);
      expect(deque.length).toBe(n);
      expect(deque.drain()).toEqual(Array.from({ length: n }, (_, i) => i));
    }
  });

  it('behaves like an array under any sequence of push, unshift, shift, peek and drain', () => {
    fc.assert(
      fc.property(fc.nat(40), fc.array(op, { maxLength: 60, size: 'max' }), (capacity, ops) => {
        const deque = new Deque<number>(capacity);
        let model: number[] = [];
        for (const o of ops) {
          switch (o.op) {
            case 'push':
              for (const v of o.values) {
                deque.push(v);
                model.push(v);
              }
              break;
            case 'unshift':
              for (const v of o.values) {
                deque.unshift(v);
                model.unshift(v);
              }
              break;
            case 'shift':
              for (let i = 0; i < o.count; i++) expect(deque.shift()).toBe(model.shift());
              break;
            case 'peek':
              expect(deque.peek()).toBe(model[0]);
              break;
            case 'drain':
              expect(deque.drain()).toEqual(model);
              model = [];
              break;
          }
          expect(deque.length).toBe(model.length);
        }
        expect(contents(deque)).toEqual(model);
        expect(deque.drain()).toEqual(model);
        expect(deque.length).toBe(0);
      }),
    );
  });
});

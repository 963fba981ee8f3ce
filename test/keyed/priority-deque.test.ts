import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PriorityDeque } from '#internal/keyed/priority-deque.js';

interface Item {
  readonly id: number;
  readonly priority: number;
}

describe('PriorityDeque', () => {
  it('takes higher priorities first, FIFO among equals, unshifted items first of their level', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(0, 0, 0, 1, -2, 7.5), fc.boolean(), fc.boolean())),
        (ops) => {
          const deque = new PriorityDeque<Item>();
          /** The model: per priority, an array in service order. */
          const model = new Map<number, Item[]>();
          let id = 0;
          for (const [priority, head, take] of ops) {
            if (take) {
              const top = Math.max(...[...model].filter(([, l]) => l.length > 0).map(([p]) => p));
              const expected = Number.isFinite(top) ? model.get(top)?.shift() : undefined;
              expect(deque.peek()).toBe(expected);
              expect(deque.shift()).toBe(expected);
              continue;
            }
            const item = { id: id++, priority };
            const level = model.get(priority) ?? [];
            model.set(priority, level);
            if (head) {
              deque.unshift(item);
              level.unshift(item);
            } else {
              deque.push(item);
              level.push(item);
            }
            const n = [...model.values()].reduce((s, l) => s + l.length, 0);
            expect(deque.length).toBe(n);
          }
          const rest = [...model].sort(([a], [b]) => b - a).flatMap(([, l]) => l);
          const seen: Item[] = [];
          deque.forEach((item) => seen.push(item));
          expect(seen).toEqual(rest);
          expect(deque.drain()).toEqual(rest);
          expect(deque.length).toBe(0);
          expect(deque.shift()).toBeUndefined();
        },
      ),
    );
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { collect, rejection, tasks } from '../helpers/index.js';

let pool: Pool | undefined;
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

/** Yields 0..n-1, as a stream of records would arrive (one tick each). */
async function* numbers(n: number, onPull?: (i: number) => void): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    onPull?.(i);
    yield await Promise.resolve(i);
  }
}

describe('wrap', () => {
  it('runs an async iterable through the pool and ends after the last outcome', async () => {
    pool = new Pool({ module: tasks, threads: 2 });
    const outcomes = await collect(pool.wrap(numbers(1000)));
    expect(outcomes).toHaveLength(1000);
    const values = outcomes
      .map((o) => (o.ok ? o.value : null))
      .sort((a, b) => Number(a) - Number(b));
    expect(values).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it('takes a plain iterable too, and keeps input order with ordered', async () => {
    pool = new Pool({ module: tasks, threads: 2 });
    const delays = [120, 5, 60, 5, 5];
    const outcomes = await collect(pool.wrap(delays, { task: 'sleep', ordered: true, window: 3 }));
    expect(outcomes.map((o) => o.index)).toEqual([0, 1, 2, 3, 4]);
    expect(outcomes.map((o) => o.input)).toEqual(delays);
  });

  it('on break: stops pulling, closes the source, drops queued jobs and lets running ones settle', async () => {
    pool = new Pool({ module: tasks, threads: 2 });
    let pulled = 0;
    let closed = false;
    async function* source(): AsyncGenerator<number> {
      try {
        for (;;) {
          pulled++;
          yield await Promise.resolve(20);
        }
      } finally {
        closed = true;
      }
    }
    let seen = 0;
    for await (const o of pool.wrap(source(), { task: 'sleep', window: 8 })) {
      expect(o.ok).toBe(true);
      if (++seen === 5) break;
    }
    expect(closed).toBe(true);
    const pulledAtBreak = pulled;
    expect(pulledAtBreak).toBeLessThanOrEqual(5 + 8 + 1);
    const s = pool.stats();
    expect(s.running).toBe(0);
    expect(s.queued).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(pulled).toBe(pulledAtBreak);
    expect(await pool.do(1)).toBe(2);
  });

  it('ends with the error of a throwing source, after the in-flight jobs settle', async () => {
    pool = new Pool({ module: tasks, threads: 2 });
    async function* source(): AsyncGenerator<number> {
      yield 30;
      yield await Promise.resolve(30);
      throw new Error('the source broke');
    }
    const seen: number[] = [];
    const error = await rejection(
      (async () => {
        for await (const o of pool.wrap(source(), { task: 'sleep' })) seen.push(o.index);
      })(),
    );
    expect(error.message).toBe('the source broke');
    expect(seen.sort()).toEqual([0, 1]);
    expect(pool.stats().running).toBe(0);
  });

  it('ends with an AbortError when its signal aborts', async () => {
    pool = new Pool({ module: tasks, threads: 2 });
    const controller = new AbortController();
    let seen = 0;
    let afterAbort = 0;
    const error = await rejection(
      (async () => {
        for await (const o of pool.wrap(numbers(1_000_000), { signal: controller.signal })) {
          if (controller.signal.aborted) afterAbort++;
          if (o.ok && ++seen === 100) controller.abort('enough');
        }
      })(),
    );
    expect(error.name).toBe('AbortError');
    expect(error.cause).toBe('enough');
    expect(seen).toBeLessThan(1_000_000);
    // The cancelled jobs' outcomes are not yielded: the output ends with the abort.
    expect(afterAbort).toBe(0);
  });

  it('runs 1,000,000 items with the number taken and not yet yielded never above the window', async () => {
    pool = new Pool({ module: tasks, threads: 2 });
    const window = 4096;
    let pulled = 0;
    let yielded = 0;
    let maxHeld = 0;
    let sum = 0;
    for await (const o of pool.wrap(
      numbers(1_000_000, () => pulled++),
      { window },
    )) {
      yielded++;
      maxHeld = Math.max(maxHeld, pulled - yielded);
      if (o.ok) sum += o.value as number;
    }
    expect(yielded).toBe(1_000_000);
    expect(sum).toBe((1_000_000 * 1_000_001) / 2);
    expect(maxHeld).toBeLessThanOrEqual(window);
    expect(maxHeld).toBeGreaterThan(1);
  }, 120_000);
});

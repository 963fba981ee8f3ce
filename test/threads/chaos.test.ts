import { describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { tasks, until } from '../helpers/index.js';

describe('chaos', () => {
  it('5,000 jobs, 5% crash their thread on the first try in one of four ways: each settles once with its value', async () => {
    const threads = 2;
    const pool = new Pool({
      module: tasks,
      threads,
      maxTries: 3,
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
    });
    const ways = ['throw', 'exit', 'oom', 'hang'] as const;
    // A fixed-seed generator keeps the run reproducible.
    let seed = 42;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const inputs = Array.from({ length: 5000 }, (_, i) => {
      const crash = random() < 0.05;
      const how = ways[Math.floor(random() * ways.length)] ?? 'exit';
      return crash
        ? { how, value: i, onTries: [1] }
        : { how: 'hang' as const, value: i, onTries: [] };
    });
    const crashing = inputs.filter((x) => x.onTries.length > 0).length;
    expect(crashing).toBeGreaterThan(150);

    const settledCount = new Array<number>(inputs.length).fill(0);
    const results = await Promise.all(
      inputs.map((input, i) =>
        // Only the jobs that hang need a timeout; the others must never be cut short by load.
        pool
          .do(input, {
            task: 'crash',
            timeout: input.onTries.length > 0 && input.how === 'hang' ? 500 : 0,
          })
          .then(
            (value) => {
              settledCount[i] = (settledCount[i] ?? 0) + 1;
              return value;
            },
            (error: unknown) => {
              settledCount[i] = (settledCount[i] ?? 0) + 1;
              return error;
            },
          ),
      ),
    );
    const wrong = results.flatMap((r, i) =>
      r === i ? [] : [{ i, input: inputs[i], got: String(r) }],
    );
    expect(wrong.slice(0, 5), JSON.stringify(pool.stats())).toEqual([]);
    expect(settledCount.every((n) => n === 1)).toBe(true);
    const stats = pool.stats();
    expect(stats.completed).toBe(5000);
    expect(stats.failed).toBe(0);
    // A thread terminated for a timeout is counted when its exit arrives, which may be after
    // the job's retry settled on the other thread (the last job to settle is often one).
    await until(() => pool.stats().crashes >= crashing);
    expect(pool.stats().crashes).toBeGreaterThanOrEqual(crashing);
    await until(() => pool.stats().threads === threads);
    expect(pool.stats().threads).toBe(threads);
    await pool.shutdown();
  }, 180_000);
});

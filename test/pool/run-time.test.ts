/**
 * `stats().runTime` runs from a job's start on its thread to its settling, and `waitTime`
 * from its submission to that start: a job a thread holds unstarted is waiting, not
 * running (issue 18, item 4).
 */
import { describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { fixture } from '../helpers/index.js';

const module = fixture('dispatch-tasks.mjs');

describe('stats() wait and run times', () => {
  it('four 50 ms jobs on one thread: each runs about 50 ms, the later ones wait', async () => {
    const pool = new Pool({ module, threads: 1 });
    try {
      await pool.ready();
      // Teach the pool that jobs are tiny, so that it sends the four at once (prefetch).
      await Promise.all(Array.from({ length: 50 }, () => pool.do(0)));
      const before = pool.stats();
      const start = performance.now();
      await Promise.all(Array.from({ length: 4 }, () => pool.do(50)));
      const total = performance.now() - start; // about four runs end to end
      const { runTime, waitTime } = pool.stats();
      expect(runTime.count - before.runTime.count).toBe(4);
      // Before: the prefetched jobs' clocks started when they were sent, the last one's
      // run time was the whole batch's. Bounds relative to `total` hold on a loaded machine.
      expect(runTime.max).toBeGreaterThanOrEqual(49);
      expect(runTime.max).toBeLessThan(0.6 * total);
      expect(waitTime.max).toBeGreaterThan(0.4 * total); // the last one waited for three
    } finally {
      await pool.shutdown();
    }
  });
});

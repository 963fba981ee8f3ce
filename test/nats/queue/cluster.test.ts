/**
 * The work queue across processes: 3 hosts of 2 threads, one client, 20,000 jobs through
 * `wrap`. Every input has exactly one outcome, it is correct, and every host ran some.
 */
import { describe, expect, it } from 'vitest';
import { collect, loggedJobs, useQueueCluster, type Logged } from '../../helpers/queue.js';

const cluster = useQueueCluster();

describe('a queue served by 3 hosts', () => {
  it('gives every one of 20,000 inputs exactly one correct outcome, and every host runs some', async () => {
    const { pool, hosts } = await cluster.serveQueue(3, { threads: 2 });

    const inputs = loggedJobs(20_000);
    const outcomes = await collect(pool.wrap<{ n: number }, Logged>(inputs, { task: 'logged' }));

    expect(outcomes).toHaveLength(20_000);
    const seen = new Set<number>();
    const pids = new Set<number>();
    for (const o of outcomes) {
      expect(seen.has(o.index)).toBe(false);
      seen.add(o.index);
      expect(o.input).toBe(inputs[o.index]);
      if (!o.ok) throw new Error(`job ${o.index} failed: ${String(o.error)}`);
      expect(o.value.n).toBe(o.index * 2);
      pids.add(o.value.pid);
    }
    expect(seen.size).toBe(20_000);
    expect([...pids].sort()).toEqual(hosts.map((h) => h.pid).sort());
    const stats = pool.stats();
    expect(stats).toMatchObject({ completed: 20_000, failed: 0, queued: 0, running: 0 });
    await pool.shutdown();
  }, 120_000);
});

/**
 * `corral serve --isolation process`: a host whose jobs run in worker processes survives a
 * task that kills its process, and the client sees every job succeed (with tries left).
 */
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/index.js';
import { useQueueCluster } from '../helpers/queue.js';

const cluster = useQueueCluster();

describe('corral serve --isolation process', () => {
  it('runs jobs in worker processes; a SIGSEGV kills only a worker, its job is retried', async () => {
    const { pool, hosts } = await cluster.serveQueue(1, {
      module: fixture('process-tasks.mjs'),
      threads: 1,
      args: ['--isolation', 'process'],
    });
    const host = hosts[0];
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        pool.do<{ n: number; pid: number }>(
          { n, ...(n === 4 ? { die: 'segv' } : {}) },
          { task: 'double', maxTries: 2 },
        ),
      ),
    );
    expect(results.map((r) => r.n)).toEqual(Array.from({ length: 10 }, (_, n) => n * 2));
    const pids = new Set(results.map((r) => r.pid));
    expect(pids.has(host?.pid ?? -1)).toBe(false); // not the host's own process
    expect(pids.size).toBeGreaterThanOrEqual(1);
    // The host is still there, serving.
    expect(await pool.do<{ n: number }>({ n: 21 }, { task: 'double' })).toMatchObject({ n: 42 });
    expect(host?.stderr()).not.toContain('Segmentation');
  }, 60_000);
});

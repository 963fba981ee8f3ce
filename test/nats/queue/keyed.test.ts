/**
 * Keyed targets across the cluster go through the existing governors: hosts map a key to a
 * NATS governor (`corral serve --governor KEY=NAME`), and a remote job with that key holds
 * a slot of it while it runs, whichever host runs it.
 */
import { describe, expect, it } from 'vitest';
import { GovernorManager } from 'corral/nats';
import { collect, killAll, mostAtOnce, uniqueQueue, useQueueCluster } from '../../helpers/queue.js';

const cluster = useQueueCluster();

describe('a key mapped to a governor on the hosts', () => {
  it('runs at most the governor limit of its jobs at once across hosts; unkeyed jobs run wider', async () => {
    const governor = uniqueQueue('g');
    await GovernorManager.create(cluster.nc, governor, { limit: 1, maxAge: 30_000 });
    const keyed = `${cluster.scratch.dir}/keyed.log`;
    const free = `${cluster.scratch.dir}/free.log`;
    const args = ['--governor', `tenant=${governor}`];

    const { queue, pool, hosts } = await cluster.serveQueue(2, { spans: keyed, args });
    const jobs = Array.from({ length: 12 }, () => ({ ms: 40 }));
    const outcomes = await collect(pool.execute(jobs, { task: 'hold', key: () => 'tenant' }));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(mostAtOnce(keyed)).toEqual({ most: 1, spans: 12 });

    // The same jobs without a key run side by side on the 4 threads.
    await killAll(hosts);
    await cluster.startHosts(queue, 2, { spans: free, args });
    const unkeyed = await collect(pool.execute(jobs, { task: 'hold' }));
    expect(unkeyed.every((o) => o.ok)).toBe(true);
    expect(mostAtOnce(free).most).toBeGreaterThan(1);
    await pool.shutdown();
  }, 120_000);
});

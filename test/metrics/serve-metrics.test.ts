import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { queueInfo } from 'corral/nats';
import { registerMetrics } from 'corral/metrics';
import { useQueueCluster } from '../helpers/queue.js';
import { parsePage, scrape, value } from '../helpers/prometheus.js';

const cluster = useQueueCluster();

describe('metrics of a work queue (real nats-server)', () => {
  it('corral serve --metrics-port: the host pool and the queue; a RemotePool in the client', async () => {
    const { queue, pool, hosts } = await cluster.serveQueue(1, {
      args: ['--metrics-port', '0', '--name', 'host-a'],
    });
    const url = /metrics at (\S+)/.exec((hosts[0] as (typeof hosts)[0]).stderr())?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const registry = new Registry();
    registerMetrics(pool, { registry, queueInfo: () => queueInfo(cluster.nc, queue) });

    await Promise.all(Array.from({ length: 20 }, (_, n) => pool.do(n)));
    await expect(pool.do(1, { task: 'missing' })).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_TASK',
    });

    const host = { queue, host: 'host-a' };
    const m = await scrape(url as string);
    expect(value(m, 'corral_jobs_completed_total', host)).toBe(20);
    expect(value(m, 'corral_threads', host)).toBe(2);
    expect(value(m, 'corral_queue_hosts', host)).toBe(1);
    expect(value(m, 'corral_queue_pending_messages', host)).toBe(0);

    const client = parsePage(await registry.metrics());
    const q = { queue };
    expect(value(client, 'corral_jobs_completed_total', q)).toBe(20);
    expect(value(client, 'corral_jobs_failed_total', q)).toBe(1);
    expect(value(client, 'corral_jobs_running', q)).toBe(0);
    expect(value(client, 'corral_queue_hosts', q)).toBe(1);
  });
});

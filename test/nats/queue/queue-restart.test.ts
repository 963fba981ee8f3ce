/**
 * The nats-server stopped for 2 s mid-run and restarted on the same store: jobs and results
 * are in file-backed streams, publishes cut by the outage are retried with their message
 * ids, hosts and client reconnect, and the run completes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { collect, useQueueCluster, type Logged } from '../../helpers/queue.js';

const cluster = useQueueCluster();

describe('a nats-server restart mid-run', () => {
  it('is survived: every job settles, correctly', async () => {
    const { pool, hosts } = await cluster.serveQueue(2);

    const inputs = Array.from({ length: 4000 }, (_, n) => ({ n, ms: 1 }));
    let restarted: Promise<void> | undefined;
    const outcomes = await collect(
      pool.wrap<{ n: number }, Logged>(inputs, { task: 'logged' }),
      (count) => {
        if (count === 1000) {
          restarted = (async () => {
            await cluster.server.stop();
            await sleep(2000);
            await cluster.server.start();
          })();
        }
      },
    );
    await restarted;
    expect(outcomes).toHaveLength(4000);
    expect(new Set(outcomes.map((o) => o.index)).size).toBe(4000);
    for (const o of outcomes) {
      if (!o.ok) throw new Error(`job ${o.index} failed: ${String(o.error)}`);
      expect(o.value.n).toBe(o.index * 2);
    }
    // Both hosts outlived the outage and are serving still.
    for (const host of hosts) expect(host.stderr()).not.toMatch(/stopped serving/);
    await pool.shutdown();
  }, 120_000);
});

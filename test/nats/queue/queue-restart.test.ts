/**
 * The nats-server stopped for 2 s mid-run and restarted on the same store: jobs and results
 * are in file-backed streams, publishes cut by the outage are retried with their message
 * ids, hosts and client reconnect, and the run completes.
 *
 * The outage must fall inside the run, or the test proves nothing: jobs settled before the
 * server stopped, jobs still unsettled once it was back, and hosts running jobs after it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  collect,
  loggedJobs,
  readRuns,
  useQueueCluster,
  type Logged,
} from '../../helpers/queue.js';

const cluster = useQueueCluster();

/** How many runs a run log holds. */
function runCount(log: string): number {
  let count = 0;
  for (const pids of readRuns(log).values()) count += pids.length;
  return count;
}

describe('a nats-server restart mid-run', () => {
  it('is survived: every job settles, correctly', async () => {
    const { log } = cluster.scratch;
    const { pool, hosts } = await cluster.serveQueue(2, { log });
    const statuses: string[] = [];
    void (async () => {
      for await (const status of cluster.nc.status()) statuses.push(status.type);
    })();

    const total = 4000;
    let settled = 0;
    const outage: { settledWhenDown?: number; settledWhenBack?: number; runsWhenBack?: number } =
      {};
    let restarted: Promise<void> | undefined;
    const outcomes = await collect(
      pool.wrap<{ n: number }, Logged>(loggedJobs(total, 1), { task: 'logged' }),
      (count) => {
        settled = count;
        if (count === 1000) {
          restarted = (async () => {
            await cluster.server.stop();
            outage.settledWhenDown = settled;
            await sleep(2000); // the outage's length, not a wait for something
            await cluster.server.start();
            outage.settledWhenBack = settled;
            outage.runsWhenBack = runCount(log);
          })();
        }
      },
    );
    await restarted;

    // The outage overlapped the run: it began after jobs had settled and ended with jobs
    // still to settle, which hosts then ran and the client received through the new server.
    expect(restarted).toBeDefined();
    expect(outage.settledWhenDown).toBeGreaterThanOrEqual(1000);
    expect(outage.settledWhenBack).toBeLessThan(total);
    expect(outage.runsWhenBack).toBeLessThan(total);
    expect(runCount(log)).toBeGreaterThan(outage.runsWhenBack ?? total);
    expect(statuses).toContain('disconnect');
    expect(statuses).toContain('reconnect');

    expect(outcomes).toHaveLength(total);
    expect(new Set(outcomes.map((o) => o.index)).size).toBe(total);
    for (const o of outcomes) {
      if (!o.ok) throw new Error(`job ${o.index} failed: ${String(o.error)}`);
      expect(o.value.n).toBe(o.index * 2);
    }
    // Both hosts outlived the outage and are serving still.
    for (const host of hosts) expect(host.stderr()).not.toMatch(/stopped serving/);
    await pool.shutdown();
  }, 120_000);
});

/**
 * Graceful nats-server restarts (SIGTERM, 2 s down, same store) in the middle of a run on
 * 3 hosts, three times in one run. For a while after SIGTERM the server still passes
 * messages on while JetStream has stopped, so an ack sent then is lost; a host must confirm
 * its acks and ack again after reconnecting. Evidence: the `logged` task's run log (no job
 * runs twice), the client's count of jobs charged a try (none), and `queueInfo` (every host
 * still present afterwards).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { queueInfo } from 'corral/nats';
import { collect, readRuns, useQueueCluster, type Logged } from '../../helpers/queue.js';

const cluster = useQueueCluster();

const COUNT = 6000;
const HOSTS = 3;
/** Outcomes between one restart's end and the next one's start. */
const SPACING = 1200;

describe('graceful server restarts mid-run', () => {
  it('re-run no job, charge no try, and leave every host present', async () => {
    const { pool, queue, hosts } = await cluster.serveQueue(HOSTS, { log: cluster.scratch.log });
    const inputs = Array.from({ length: COUNT }, (_, n) => ({ n, ms: 1 }));
    /** Outcomes received when each restart began and when the server was back. */
    const windows: { from: number; to: number }[] = [];
    let seen = 0;
    let restarting: Promise<void> | undefined;
    let nextAt = SPACING;
    const outcomes = await collect(
      pool.wrap<{ n: number; ms: number }, Logged>(inputs, { task: 'logged' }),
      (count) => {
        seen = count;
        if (restarting === undefined && windows.length < 3 && count >= nextAt) {
          const from = count;
          restarting = (async () => {
            await cluster.server.stop();
            await sleep(2000);
            await cluster.server.start();
            windows.push({ from, to: seen });
            nextAt = seen + SPACING;
            restarting = undefined;
          })();
        }
      },
    );
    await restarting;
    expect(windows).toHaveLength(3);
    // Each outage overlapped the run: jobs settled after it ended.
    for (const w of windows) expect(w.from).toBeLessThan(COUNT);
    for (const w of windows) expect(w.to).toBeLessThan(COUNT);

    expect(outcomes).toHaveLength(COUNT);
    for (const o of outcomes) {
      if (!o.ok) throw new Error(`job ${o.index} failed: ${String(o.error)}`);
      expect(o.value.n).toBe(o.index * 2);
    }
    const runs = readRuns(cluster.scratch.log);
    console.log(`stats ${JSON.stringify(pool.stats())} windows ${JSON.stringify(windows)}`);
    const twice = [...runs].filter(([, pids]) => pids.length > 1).map(([n]) => n);
    expect(twice).toEqual([]);
    expect(runs.size).toBe(COUNT);
    // No job was charged a try: no result came from a redelivered message.
    expect(pool.stats().retried).toBe(0);

    // Every host is serving still and says so in the queue's presence.
    for (const host of hosts) expect(host.stderr()).not.toMatch(/stopped serving/);
    const deadline = Date.now() + 8000;
    let present = 0;
    while (Date.now() < deadline) {
      present = (await queueInfo(cluster.nc, queue).catch(() => ({ hosts: [] }))).hosts.length;
      if (present === HOSTS) break;
      await sleep(250);
    }
    expect(present).toBe(HOSTS);
    await pool.shutdown();
  }, 180_000);
});

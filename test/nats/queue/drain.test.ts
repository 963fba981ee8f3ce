/**
 * SIGTERM drains a host: it takes no more jobs, finishes and reports the ones it holds,
 * and exits 0; nothing it held runs again elsewhere (the run log has one run per job).
 */
import { describe, expect, it } from 'vitest';
import {
  collect,
  readRuns,
  useQueueCluster,
  type HostProcess,
  type Logged,
} from '../../helpers/queue.js';

const cluster = useQueueCluster();

describe('SIGTERM to a host mid-run', () => {
  it('drains it: exit 0 once its jobs are reported, and no job runs twice', async () => {
    const { pool, hosts } = await cluster.serveQueue(2, { log: cluster.scratch.log });
    const [drained, other] = hosts as [HostProcess, HostProcess];

    // Jobs of 2 ms: the run lasts seconds, and the drained host holds running jobs when told.
    const inputs = Array.from({ length: 3000 }, (_, n) => ({ n, ms: 2 }));
    let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
    const outcomes = await collect(
      // maxTries 3: a job the drained host let go unreported would run again on the other one.
      pool.wrap<{ n: number }, Logged>(inputs, { task: 'logged', maxTries: 3 }),
      (count) => {
        if (count === 500) {
          drained.kill('SIGTERM');
          exit = drained.exited;
        }
      },
    );
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(drained.stderr()).toMatch(/SIGTERM: draining/);
    expect(drained.stderr()).toMatch(/drained: \d+ jobs reported \(0 failed\)/);

    expect(outcomes).toHaveLength(3000);
    const runs = readRuns(cluster.scratch.log);
    const byHost = new Map<number, number>();
    for (const o of outcomes) {
      if (!o.ok) throw new Error(`job ${o.index} failed: ${String(o.error)}`);
      expect(o.value.n).toBe(o.index * 2);
      expect(runs.get(o.index)).toEqual([o.value.pid]); // ran once, where the result came from
      byHost.set(o.value.pid, (byHost.get(o.value.pid) ?? 0) + 1);
    }
    expect(runs.size).toBe(3000);
    // Both hosts ran some; the drained one stopped early, the other finished the run.
    expect(byHost.get(drained.pid) ?? 0).toBeGreaterThan(0);
    expect(byHost.get(other.pid) ?? 0).toBeGreaterThan(byHost.get(drained.pid) ?? 0);
    await pool.shutdown();
  }, 120_000);
});

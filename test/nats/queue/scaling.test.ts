/**
 * Hosts come and go during a run: hosts started mid-run take jobs at once; hosts drained
 * down to one leave the run to it, and it completes. The source keeps producing until each
 * step has happened, so the test does not depend on how fast processes start.
 */
import { describe, expect, it } from 'vitest';
import type { Outcome } from 'corral';
import { useQueueCluster, type HostProcess, type Logged } from '../../helpers/queue.js';

const cluster = useQueueCluster();

/** Jobs run once only the last host is left. */
const TAIL = 1000;

describe('hosts added and removed mid-run', () => {
  it('take jobs when added, and the run completes on the one left', async () => {
    const { queue, pool, hosts } = await cluster.serveQueue(1);
    const first = hosts[0] as HostProcess;

    /** The index of the first input produced once only the last host was left. */
    let tailFrom: number | undefined;
    let produced = 0;
    async function* source(): AsyncGenerator<{ n: number; ms: number }> {
      while (tailFrom === undefined || produced < tailFrom + TAIL) {
        yield { n: produced++, ms: 1 };
        // Let the event loop turn now and then: the steps below run between outcomes.
        if (produced % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    }

    const outcomes: Outcome<{ n: number }, Logged>[] = [];
    const ran = new Map<number, number>(); // pid -> jobs
    let added: HostProcess[] = [];
    let removed: Promise<unknown> | undefined;
    for await (const o of pool.wrap<{ n: number }, Logged>(source(), { task: 'logged' })) {
      outcomes.push(o);
      if (o.ok) ran.set(o.value.pid, (ran.get(o.value.pid) ?? 0) + 1);
      if (outcomes.length === 500) {
        added = [cluster.startHost(queue), cluster.startHost(queue)];
      }
      // Once both new hosts have run jobs, drain the first two: one host is left.
      const [second, last] = added;
      if (
        removed === undefined &&
        second !== undefined &&
        last !== undefined &&
        ran.has(second.pid) &&
        ran.has(last.pid)
      ) {
        first.kill('SIGTERM');
        second.kill('SIGTERM');
        removed = Promise.all([first.exited, second.exited]).then((exits) => {
          tailFrom = produced;
          return exits;
        });
      }
    }

    expect(await removed).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
    if (tailFrom === undefined) throw new Error('the run ended before one host was left');
    expect(outcomes).toHaveLength(tailFrom + TAIL);
    expect(new Set(outcomes.map((o) => o.index)).size).toBe(outcomes.length);
    const last = added[1] as HostProcess;
    for (const o of outcomes) {
      if (!o.ok) throw new Error(`job ${o.index} failed: ${String(o.error)}`);
      expect(o.value.n).toBe(o.index * 2);
      // Produced once the others were gone: only the last host can have run it.
      if (o.index >= tailFrom) expect(o.value.pid).toBe(last.pid);
    }
    for (const host of [first, ...added]) expect(ran.get(host.pid) ?? 0).toBeGreaterThan(0);
    await pool.shutdown();
  }, 120_000);
});

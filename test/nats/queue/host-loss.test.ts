/**
 * A host SIGKILLed mid-run loses nothing: its jobs come back after the ack wait. With tries
 * left they run again (every input settles once, correctly); with `maxTries: 1` the ones in
 * doubt reject `ERR_HOST_LOST` and never run twice. The `logged` task's run log is the
 * evidence of what ran where.
 */
import { describe, expect, it } from 'vitest';
import { HostLostError } from 'corral/nats';
import {
  codeOf,
  collect,
  readRuns,
  useQueueCluster,
  type HostProcess,
  type Logged,
} from '../../helpers/queue.js';

const cluster = useQueueCluster({ serve: { hosts: 3, logRuns: true } });
const { hosts, queue } = cluster;

const COUNT = 20_000;
/** Jobs of the second run are numbered from here, so one log serves both. */
const SECOND = 1_000_000;

/** Runs COUNT `logged` jobs numbered from `first`, SIGKILLing `victim` after 5,000 outcomes. */
async function runAndKill(first: number, maxTries: number, victim: HostProcess) {
  const inputs = Array.from({ length: COUNT }, (_, i) => ({ n: first + i, ms: 0 }));
  const outcomes = await collect(
    cluster.pool.wrap<{ n: number }, Logged>(inputs, { task: 'logged', maxTries }),
    (count) => {
      if (count === 5000) victim.kill('SIGKILL');
    },
  );
  await victim.exited;
  expect(outcomes).toHaveLength(COUNT);
  expect(new Set(outcomes.map((o) => o.index)).size).toBe(COUNT);
  const runs = readRuns(cluster.scratch.log);
  return { outcomes, runs };
}

describe('a host killed mid-run', () => {
  it('with maxTries 3: every input settles once, correctly', async () => {
    const victim = hosts[0] as HostProcess;
    const { outcomes, runs } = await runAndKill(0, 3, victim);
    for (const o of outcomes) {
      if (!o.ok) throw new Error(`job ${o.index} failed: ${String(o.error)}`);
      expect(o.value.n).toBe(o.index * 2);
    }
    // The victim ran some; a job ran twice only if the victim was one of its runs.
    const ranOnVictim = [...runs.values()].filter((pids) => pids.includes(victim.pid)).length;
    expect(ranOnVictim).toBeGreaterThan(0);
    for (let n = 0; n < COUNT; n++) {
      const pids = runs.get(n) ?? [];
      expect(pids.length).toBeGreaterThanOrEqual(1);
      const survivors = pids.filter((pid) => pid !== victim.pid);
      expect(survivors.length).toBeLessThanOrEqual(1);
    }
  }, 120_000);

  it('with maxTries 1: the jobs in doubt reject ERR_HOST_LOST, the rest succeed, none runs twice', async () => {
    await cluster.startHost(queue, { log: cluster.scratch.log }).ready;
    const victim = hosts[1] as HostProcess;
    const { outcomes, runs } = await runAndKill(SECOND, 1, victim);
    const lost = outcomes.filter((o) => !o.ok);
    for (const o of outcomes) {
      const n = SECOND + o.index;
      const pids = runs.get(n) ?? [];
      expect(pids.length).toBeLessThanOrEqual(1); // maxTries 1: never run twice
      if (o.ok) {
        expect(o.value).toMatchObject({ n: n * 2, pid: pids[0] });
      } else {
        expect(o.error).toBeInstanceOf(HostLostError);
        expect(codeOf(o.error)).toBe('ERR_HOST_LOST');
        // In doubt: it was claimed by the victim; it ran there or nowhere.
        expect(pids.every((pid) => pid === victim.pid)).toBe(true);
      }
    }
    // The victim ran jobs of this run. Only jobs it had started are lost (none, if it died
    // between jobs): at most its thread slots and its lookahead (at most 1,024 tiny jobs),
    // plus results not yet stored.
    expect([...runs].some(([n, pids]) => n >= SECOND && pids.includes(victim.pid))).toBe(true);
    expect(lost.length).toBeLessThanOrEqual(2 * (2 + 1) * 256);
    const neverRan = lost.filter((o) => !runs.has(SECOND + o.index)).length;
    console.log(`maxTries 1: ${lost.length} jobs lost, ${neverRan} of them had not started`);
  }, 120_000);
});

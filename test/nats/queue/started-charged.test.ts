/**
 * A host SIGKILLed while it holds work costs a try only to the jobs that had started on it.
 * Hosts mark jobs started (per message, before they go to the pool) and hand them to the
 * pool only as its threads have room, so jobs of the dead host's messages that never started
 * run elsewhere uncharged, even with `maxTries: 1`; `ctx.tries` counts attempts across
 * hosts; and the dead host's jobs run elsewhere within the queue's ack wait and a second.
 * Evidence: the `logged` task's run log (`<job> <pid> <ctx.tries>` per run).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostLostError } from 'corral/nats';
import {
  ACK_WAIT,
  codeOf,
  useQueueCluster,
  type HostProcess,
  type Logged,
} from '../../helpers/queue.js';

const cluster = useQueueCluster();

const COUNT = 600;
const JOB_MS = 20;
const THREADS = 2;
/** Outcomes before the kill: every host is busy by then. */
const KILL_AT = 150;

interface Run {
  pid: number;
  tries: number;
}

/** The runs in a run log with the attempt numbers: job -> its runs, in order. */
function readTries(log: string): Map<number, Run[]> {
  const runs = new Map<number, Run[]>();
  if (!existsSync(log)) return runs;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (line === '') continue;
    const [n = '', pid = '', tries = ''] = line.split(' ');
    const list = runs.get(Number(n)) ?? [];
    list.push({ pid: Number(pid), tries: Number(tries) });
    runs.set(Number(n), list);
  }
  return runs;
}

/** Runs COUNT 20 ms jobs on 3 fresh hosts, SIGKILLing one after KILL_AT outcomes. */
async function runAndKill(maxTries: number, name: string) {
  const log = join(cluster.scratch.dir, `${name}.log`);
  const { pool, hosts } = await cluster.serveQueue(3, { log, threads: THREADS });
  const victim = hosts[0] as HostProcess;
  const inputs = Array.from({ length: COUNT }, (_, n) => ({ n, ms: JOB_MS }));
  /** When each input's outcome came, in ms after the kill. */
  const settledAt = new Map<number, number>();
  let killedAt = 0;
  const outcomes = [];
  for await (const o of pool.wrap<{ n: number; ms: number }, Logged & { tries: number }>(inputs, {
    task: 'logged',
    maxTries,
  })) {
    outcomes.push(o);
    settledAt.set(o.index, performance.now() - killedAt);
    if (outcomes.length === KILL_AT) {
      victim.kill('SIGKILL');
      killedAt = performance.now();
    }
  }
  await victim.exited;
  expect(outcomes).toHaveLength(COUNT);
  expect(new Set(outcomes.map((o) => o.index)).size).toBe(COUNT);
  const runs = readTries(log);
  const onVictim = [...runs].filter(([, list]) => list.some((r) => r.pid === victim.pid));
  expect(onVictim.length).toBeGreaterThan(0);
  return { pool, victim, outcomes, runs, settledAt };
}

describe('a host killed while it holds work', () => {
  it('with maxTries 1: only jobs started on it reject ERR_HOST_LOST; none runs twice', async () => {
    const { victim, outcomes, runs } = await runAndKill(1, 'once');
    const lost = outcomes.filter((o) => !o.ok);
    for (const o of outcomes) {
      const list = runs.get(o.index) ?? [];
      expect(list.length).toBeLessThanOrEqual(1);
      if (o.ok) {
        expect(o.value).toEqual({ n: o.index * 2, pid: list[0]?.pid, tries: 1 });
      } else {
        expect(o.error).toBeInstanceOf(HostLostError);
        expect(codeOf(o.error)).toBe('ERR_HOST_LOST');
        // Charged only because it had started on the victim: handed to its pool (marked
        // started first); it ran there, or the kill came before its task's first line.
        expect(list.every((r) => r.pid === victim.pid)).toBe(true);
      }
    }
    // Started and lost: at most one per thread running when it died, plus the ones that
    // had finished there with their results not yet stored (a 20 ms linger, a few).
    console.log(`maxTries 1: ${lost.length} jobs lost`);
    expect(lost.length).toBeLessThanOrEqual(3 * THREADS);
  }, 120_000);

  it('with maxTries 3: all succeed, only started-and-lost jobs are charged, ctx.tries counts across hosts', async () => {
    const { pool, victim, outcomes, runs, settledAt } = await runAndKill(3, 'thrice');
    let charged = 0;
    /** The latest outcome of a job started on the victim and run again elsewhere. */
    let resumed = 0;
    for (const o of outcomes) {
      if (!o.ok) throw new Error(`job ${o.index} failed: ${String(o.error)}`);
      const list = runs.get(o.index) ?? [];
      // At most one run on the victim and one elsewhere, the victim's first, each with its
      // attempt number: a run after the victim's is attempt 2 (a job handed to the victim's
      // pool when it was killed may have no run of its own logged there).
      const survivors = list.filter((r) => r.pid !== victim.pid);
      expect(survivors.length).toBeLessThanOrEqual(1);
      expect(list.length).toBeLessThanOrEqual(2);
      const onVictim = list.find((r) => r.pid === victim.pid);
      if (onVictim !== undefined) expect(onVictim.tries).toBe(1);
      if (onVictim !== undefined && survivors[0] !== undefined) {
        expect(survivors[0].tries).toBe(2);
      }
      // The outcome is a run that happened, with its attempt number.
      expect(list).toContainEqual({ pid: o.value.pid, tries: o.value.tries });
      if (o.value.tries > 1) {
        charged++;
        resumed = Math.max(resumed, settledAt.get(o.index) ?? Infinity);
      }
    }
    // The victim's jobs ran elsewhere within the ack wait and a second of the kill (the
    // margin is for this shared machine: a job's own 20 ms, its result's way back, load).
    console.log(
      `maxTries 3: the last job resumed elsewhere settled ${Math.round(resumed)} ms after the kill`,
    );
    expect(resumed).toBeLessThanOrEqual(ACK_WAIT + 1000 + 1000);
    expect(pool.stats().retried).toBe(charged);
    expect(charged).toBeLessThanOrEqual(3 * THREADS);
    console.log(`maxTries 3: ${charged} jobs charged a try (started and lost)`);
  }, 120_000);
});

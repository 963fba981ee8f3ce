// @ts-check
/**
 * What a queue host's main thread spends per job on its side of the hand-over, alone: the
 * host's `JobRunner` (from the build output) in front of a real local pool, with no server.
 * Started marks are answered on the next turn, results are taken as stored at once, and the
 * task sleeps (`Atomics.wait`), so the main thread's CPU is the runner's and the pool's
 * (hand-over, `postMessage`, results, settling, the runner's bookkeeping).
 *
 *   node bench/cluster/handover.js [messages=2000] [jobs per message=1] [estimate ms=50] [sleep ms=1] [--observe]
 *
 * `estimate ms` is the run clock's estimate the runner sees (it sets the lookahead: above
 * 15 ms one job per free slot, as for 50 ms jobs; 5 for 5 ms jobs); the jobs sleep `sleep ms`
 * whatever it says (longer sleeps leave the main thread's caches as cold as a host's are). `--observe` adds a `pool.observe` listener that keeps a record of each
 * job, as a host's dashboard snapshots did. Prints the main thread's CPU per job (from
 * /proc, in µs: 10 ms ticks), the least and the median of `ROUNDS` (5) rounds after a
 * warm-up: on a shared machine the least is the one least disturbed.
 */
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';
import { Pool } from '../../dist/src/index.js';
import { HeldMessage, JobRunner } from '../../dist/src/nats/queue/host-runner.js';
import { RunClock } from '../../dist/src/nats/queue/run-clock.js';

const args = process.argv.slice(2);
const observe = args.includes('--observe');
const [messagesArg = '2000', perMessageArg = '1', estimateArg = '50', sleepArg = '1'] = args.filter(
  (a) => !a.startsWith('--'),
);
const sleepMs = Number(sleepArg);
const messages = Number(messagesArg);
const perMessage = Number(perMessageArg);
const estimate = Number(estimateArg);

/** CPU ms of this process's main thread so far (utime + stime, in 10 ms ticks). */
function mainCpuMs() {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** A run clock whose estimate is fixed (the lookahead follows it). */
class FixedClock extends RunClock {
  /** @override */
  get estimate() {
    return estimate;
  }
}

const pool = new Pool({
  module: new URL('./sleep-worker.js', import.meta.url),
  threads: 1,
});
await pool.ready();
const records = [];
if (observe) pool.observe((r) => records.length < 1e6 && records.push(r));

/**
 * Runs `count` messages of `perMessage` jobs through one runner, two messages held at a time
 * (as the claimer holds the next while one runs); resolves when all are reported.
 * @param {number} count
 */
function run(count) {
  return new Promise((resolve) => {
    let next = 0;
    let done = 0;
    let id = 0;
    const sink = {
      /** @param {string} _c @param {{ stored(): void }} owner */
      add: (_c, owner) => {
        owner.stored();
      },
    };
    const runner = new JobRunner({
      pool,
      sink: /** @type {never} */ (sink),
      clock: new FixedClock(1),
      slots: 1,
      mark: () =>
        new Promise((r) =>
          setImmediate(() => {
            r(true);
          }),
        ),
      takenOver: () => undefined,
      onError: () => undefined,
    });
    const take = () => {
      if (next >= count) return;
      next++;
      const jobs = Array.from({ length: perMessage }, () => ({
        id: ++id,
        task: 'sleep',
        timeout: 0,
        maxTries: 1,
        key: undefined,
        input: sleepMs,
      }));
      const held = new HeldMessage(
        /** @type {never} */ ({}),
        'client',
        jobs.length,
        () => {
          take();
        },
        () => {
          if (++done === count) resolve(undefined);
        },
      );
      runner.run(held, jobs);
    };
    take();
    take();
  });
}

await run(200);
const rounds = Number(process.env.ROUNDS ?? 5);
/** Main thread µs per job, per round. */
const perJob = [];
let wall = 0;
for (let round = 0; round < rounds; round++) {
  const cpu0 = mainCpuMs();
  const t0 = performance.now();
  await run(messages);
  wall += performance.now() - t0;
  perJob.push(((mainCpuMs() - cpu0) / (messages * perMessage)) * 1000);
}
perJob.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    messages,
    perMessage,
    estimate,
    sleepMs,
    observe,
    mainUsPerJobMin: +(perJob[0] ?? 0).toFixed(1),
    mainUsPerJobMedian: +(perJob[Math.floor(rounds / 2)] ?? 0).toFixed(1),
    wallMsPerJob: +(wall / rounds / messages / perMessage).toFixed(3),
  }),
);
await pool.shutdown();

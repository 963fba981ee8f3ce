// @ts-check
/**
 * The scenarios as run inside one child process against one started contestant. Each returns its
 * metrics; timing covers the scenario only, not pool start-up, warm-up or shutdown.
 */
import { performance } from 'node:perf_hooks';
import { Bench } from 'tinybench';
import { batchByRun } from './contestant.js';
import { cpuMsOf, mainThreadCpuMsOf } from './machine.js';
import {
  FINE_US,
  PAYLOAD_WINDOW,
  QUEUE_LONG_MS,
  QUEUE_MIXED_MS,
  QUEUE_MIXED_SEED,
} from './plan.js';
import { cpu, expectedPayload, makePayload, PAYLOAD_BYTES } from './tasks.js';
import { mixedMs } from './mixed.js';

/** @typedef {import('./contestant.js').Contestant} Contestant */
/** @typedef {import('./contestant.js').Outcome} Outcome */
/** @typedef {import('./plan.js').ScenarioId} ScenarioId */
/** @typedef {Record<string, number>} Metrics */

/**
 * @typedef {object} ScenarioParams
 * @property {number} count tasks (or round trips) in the scenario
 * @property {number} iters chunk count that makes `cpu(iters)` take about 5 ms
 * @property {number} cores cores usable on this machine
 */

/** @typedef {(c: Contestant, p: ScenarioParams) => Promise<Metrics>} Scenario */

/** Tiny jobs the queue-tiny warm-up sends through the contestant's batch form. */
const QUEUE_WARM_UP = 2000;

/**
 * Tiny jobs the streaming scenarios' warm-up sends through the API they measure, at most: a
 * pass as long as the measured one (chunks make the per-job code run a few times per 64
 * jobs, so it takes more jobs to be optimised: the first pass of 200,000 after a 20,000-job
 * warm-up ran at half the rate of the next ones).
 */
const STREAM_WARM_UP = 200_000;

/**
 * @param {number} n
 * @returns {Generator<number, void, undefined>}
 */
function* ints(n) {
  for (let i = 0; i < n; i++) yield i;
}

/**
 * @param {number} n
 * @returns {AsyncGenerator<number, void, undefined>}
 */
// eslint-disable-next-line @typescript-eslint/require-await -- a source that is async by type, like a stream, with no I/O cost
async function* asyncInts(n) {
  for (let i = 0; i < n; i++) yield i;
}

/**
 * Drains a stream of tiny-task outcomes and checks it holds every `i + 1` for `i < count`.
 * @param {AsyncIterable<Outcome>} outcomes
 * @param {number} count
 * @returns {Promise<Metrics>}
 */
async function drainTiny(outcomes, count) {
  const t0 = performance.now();
  let ok = 0;
  let sum = 0;
  for await (const o of outcomes) {
    if (o.ok && typeof o.value === 'number') {
      ok++;
      sum += o.value;
    }
  }
  const wallMs = performance.now() - t0;
  if (ok !== count || sum !== (count * (count + 1)) / 2) {
    throw new Error(`wrong outcomes: ${ok} ok of ${count}, sum ${sum}`);
  }
  return { tasksPerSec: (count / wallMs) * 1000, wallMs };
}

/**
 * Runs `count` payload tasks with at most {@link PAYLOAD_WINDOW} in flight, each on a fresh
 * buffer, and checks every result.
 * @param {Contestant} c
 * @param {number} count
 * @param {boolean} transfer
 * @returns {Promise<Metrics>}
 */
async function payloads(c, count, transfer) {
  if (transfer && !c.transfers) throw new Error('this contestant cannot transfer');
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    let next = 0;
    let done = 0;
    const launch = () => {
      const i = next++;
      const buf = makePayload(i);
      c.run('payload', buf, transfer ? [buf.buffer] : undefined).then((r) => {
        if (r !== expectedPayload(i)) {
          reject(new Error(`payload ${i}: got ${String(r)}, want ${expectedPayload(i)}`));
          return;
        }
        done++;
        if (next < count) launch();
        else if (done === count) resolve(undefined);
      }, reject);
    };
    for (let k = 0; k < Math.min(PAYLOAD_WINDOW, count); k++) launch();
  });
  const wallMs = performance.now() - t0;
  return { mbPerSec: (count * PAYLOAD_BYTES) / 1e6 / (wallMs / 1000), wallMs };
}

/**
 * Fine-grained CPU work: `count` tasks of about `us` microseconds each, submitted through the
 * pool's best batch form; efficiency is against the ideal (the inline time divided by the threads).
 * @param {Contestant} c
 * @param {ScenarioParams} p
 * @param {number} us
 * @returns {Promise<Metrics>}
 */
async function fine(c, { count, iters, cores }, us) {
  const fineIters = fineItersFor(iters, us);
  // One-thread time per task, measured inline over enough tasks to last about 100 ms.
  let expected = cpu(fineIters);
  const inlineRuns = Math.max(200, Math.round(100_000 / us));
  const t0 = performance.now();
  for (let i = 0; i < inlineRuns; i++) expected = cpu(fineIters);
  const perTaskMs = (performance.now() - t0) / inlineRuns;
  const oneThreadMs = perTaskMs * count;

  /** @type {number[]} */
  const inputs = new Array(count).fill(fineIters);
  const batch = c.batch ?? batchByRun(c.run);
  const t1 = performance.now();
  const results = await batch(inputs, 'cpu');
  const wallMs = performance.now() - t1;
  if (results.length !== count || results.some((r) => r !== expected)) {
    throw new Error('a fine-grained task returned a wrong value');
  }
  const idealMs = oneThreadMs / Math.min(c.parallelism, cores);
  return {
    wallMs,
    perTaskUs: perTaskMs * 1000,
    idealMs,
    efficiency: idealMs / wallMs,
    tasksPerSec: (count / wallMs) * 1000,
  };
}

/**
 * Chunks of the CPU task that take about `us` microseconds, given `iters` for about 5 ms.
 * @param {number} iters
 * @param {number} us
 * @returns {number}
 */
export function fineItersFor(iters, us) {
  return Math.max(1, Math.round((iters * us) / 5000));
}

/**
 * `count` CPU tasks of about 5 ms, submitted by `submit`; efficiency is against the ideal (the
 * inline time divided by the threads).
 * @param {Contestant} c
 * @param {ScenarioParams} p
 * @param {(count: number, iters: number) => Promise<unknown[]>} submit resolves with the results
 * @returns {Promise<Metrics>}
 */
async function cpuJobs(c, { count, iters, cores }, submit) {
  // One-thread time: the same task run inline in this process, after the pool is warm (its
  // threads are idle now), scaled to the task count.
  const inlineRuns = Math.max(10, Math.min(40, count / 10));
  let expected = cpu(iters);
  const t0 = performance.now();
  for (let i = 0; i < inlineRuns; i++) expected = cpu(iters);
  const perTaskMs = (performance.now() - t0) / inlineRuns;
  const oneThreadMs = perTaskMs * count;

  const cpuUse = processCpu(c);
  const t1 = performance.now();
  const results = await submit(count, iters);
  const wallMs = performance.now() - t1;
  const perProcess = cpuUse(count, oneThreadMs);
  if (results.length !== count || results.some((r) => r !== expected)) {
    throw new Error('a cpu task returned a wrong value');
  }
  const idealMs = oneThreadMs / Math.min(c.parallelism, cores);
  return { wallMs, perTaskMs, oneThreadMs, idealMs, efficiency: idealMs / wallMs, ...perProcess };
}

/**
 * Starts counting the CPU time of a queue contestant's processes. The returned function
 * gives each one's CPU per job since: the client (this process, all its threads), the server
 * (the contestant's first helper process) and its hosts or workers together (the other
 * helpers), the tasks' own time `taskMs` (as timed inline here: under load from elsewhere it
 * runs long and this figure comes out low) taken out; and the hosts' main threads alone
 * (corral's hosts run tasks on worker threads; a BullMQ worker runs them on its main
 * thread). Nothing for a contestant of one process.
 * /proc's clock ticks are 10 ms: read figures from runs of a second or more.
 * @param {Contestant} c
 * @returns {(jobs: number, taskMs: number) => Metrics}
 */
function processCpu(c) {
  const [server, ...hosts] = c.pids?.() ?? [];
  const own0 = process.cpuUsage();
  const server0 = server === undefined ? 0 : cpuMsOf([server]);
  const hosts0 = cpuMsOf(hosts);
  const mains0 = mainThreadCpuMsOf(hosts);
  return (jobs, taskMs) => {
    if (server === undefined) return {};
    const own = process.cpuUsage(own0);
    return {
      clientCpuMsPerJob: (own.user + own.system) / 1000 / jobs,
      serverCpuMsPerJob: (cpuMsOf([server]) - server0) / jobs,
      hostCpuMsPerJob: (cpuMsOf(hosts) - hosts0 - taskMs) / jobs,
      hostMainCpuMsPerJob: (mainThreadCpuMsOf(hosts) - mains0) / jobs,
    };
  };
}

/**
 * The mixed batch: `count` jobs of whole ms in {@link QUEUE_MIXED_MS}, seeded, as the `cpu`
 * task's chunk counts (`iters` makes about 5 ms).
 * @param {number} count
 * @param {number} iters
 * @returns {number[]}
 */
function mixedInputs(count, iters) {
  const [low, high] = QUEUE_MIXED_MS;
  return mixedMs(count, low, high, QUEUE_MIXED_SEED).map((ms) =>
    Math.max(1, Math.round((iters * ms) / 5)),
  );
}

/**
 * Jobs of mixed sizes in one batch: the wall time against the ideal, all the work spread
 * evenly over the threads plus the longest job (the last job cannot be split).
 * @param {Contestant} c
 * @param {ScenarioParams} p
 * @returns {Promise<Metrics>}
 */
async function mixedJobs(c, { count, iters, cores }) {
  const inputs = mixedInputs(count, iters);
  // Each size's inline time and result, once (the task is deterministic).
  /** @type {Map<number, { ms: number, value: number }>} */
  const sizes = new Map();
  for (const n of inputs) {
    if (sizes.has(n)) continue;
    cpu(n);
    const t0 = performance.now();
    const value = cpu(n);
    sizes.set(n, { ms: performance.now() - t0, value });
  }
  let workMs = 0;
  let longestMs = 0;
  for (const n of inputs) {
    const { ms } = /** @type {{ ms: number }} */ (sizes.get(n));
    workMs += ms;
    longestMs = Math.max(longestMs, ms);
  }
  const batch = c.batch ?? batchByRun(c.run);
  const cpuUse = processCpu(c);
  const t0 = performance.now();
  const results = await batch(inputs, 'cpu');
  const wallMs = performance.now() - t0;
  const perProcess = cpuUse(count, workMs);
  if (results.length !== count || results.some((r, i) => r !== sizes.get(inputs[i] ?? 0)?.value)) {
    throw new Error('a cpu task returned a wrong value');
  }
  const threads = Math.min(c.parallelism, cores);
  const idealMs = workMs / threads + longestMs;
  return {
    wallMs,
    workMs,
    longestMs,
    idealMs,
    vsIdeal: wallMs / idealMs,
    efficiency: workMs / threads / wallMs,
    ...perProcess,
  };
}

/** @type {Record<ScenarioId, Scenario>} */
export const scenarios = {
  'fine-20'(c, p) {
    return fine(c, p, FINE_US['fine-20']);
  },

  'fine-100'(c, p) {
    return fine(c, p, FINE_US['fine-100']);
  },

  async 'tiny-burst'(c, { count }) {
    const t0 = performance.now();
    /** @type {PromiseLike<unknown>[]} */
    const pending = new Array(count);
    for (let i = 0; i < count; i++) pending[i] = c.run('tiny', i);
    const results = await Promise.all(pending);
    const wallMs = performance.now() - t0;
    const wrong = results.findIndex((r, i) => r !== i + 1);
    if (wrong !== -1) throw new Error(`task ${wrong} returned ${String(results[wrong])}`);
    return { tasksPerSec: (count / wallMs) * 1000, wallMs };
  },

  'tiny-execute'(c, { count }) {
    if (c.execute === undefined) throw new Error('no execute API');
    return drainTiny(c.execute(ints(count), 'tiny'), count);
  },

  'tiny-keyed'(c, { count }) {
    if (c.executeKeyed === undefined) throw new Error('no keyed execute API');
    return drainTiny(c.executeKeyed(ints(count), 'tiny', 16), count);
  },

  'tiny-wrap'(c, { count }) {
    if (c.wrap === undefined) throw new Error('no wrap API');
    return drainTiny(c.wrap(asyncInts(count), 'tiny'), count);
  },

  'wrap-stream'(c, { count }) {
    if (c.wrap === undefined) throw new Error('no wrap API');
    return drainTiny(c.wrap(asyncInts(count), 'tiny'), count);
  },

  async latency(c, { count }) {
    const bench = new Bench({
      iterations: count,
      time: 0,
      warmupIterations: Math.min(500, count),
      warmupTime: 0,
      throws: true,
    });
    let wrong = 0;
    bench.add('round trip', async () => {
      if ((await c.run('tiny', 41)) !== 42) wrong++;
    });
    await bench.run();
    const result = bench.tasks[0]?.result;
    if (result?.state !== 'completed') throw new Error(`tinybench: ${result?.state ?? 'no task'}`);
    if (wrong > 0) throw new Error(`${wrong} round trips returned a wrong value`);
    const { latency } = result;
    return {
      p50Us: latency.p50 * 1000,
      p99Us: latency.p99 * 1000,
      meanUs: latency.mean * 1000,
      samples: latency.samplesCount,
    };
  },

  cpu(c, p) {
    return cpuJobs(c, p, (count, iters) => {
      /** @type {PromiseLike<unknown>[]} */
      const pending = new Array(count);
      for (let i = 0; i < count; i++) pending[i] = c.run('cpu', iters);
      return Promise.all(pending);
    });
  },

  'payload-copy'(c, { count }) {
    return payloads(c, count, false);
  },

  'payload-transfer'(c, { count }) {
    return payloads(c, count, true);
  },

  async 'queue-tiny'(c, { count }) {
    const batch = c.batch ?? batchByRun(c.run);
    const t0 = performance.now();
    const results = await batch([...ints(count)], 'tiny');
    const wallMs = performance.now() - t0;
    const wrong = results.findIndex((r, i) => r !== i + 1);
    if (results.length !== count || wrong !== -1) {
      throw new Error(`job ${wrong} of ${results.length} returned ${String(results[wrong])}`);
    }
    return { tasksPerSec: (count / wallMs) * 1000, wallMs };
  },

  'queue-cpu'(c, p) {
    const batch = c.batch ?? batchByRun(c.run);
    return cpuJobs(c, p, (count, iters) => batch(new Array(count).fill(iters), 'cpu'));
  },

  'queue-long'(c, p) {
    const batch = c.batch ?? batchByRun(c.run);
    const long = { ...p, iters: Math.round((p.iters * QUEUE_LONG_MS) / 5) };
    return cpuJobs(c, long, (count, iters) => batch(new Array(count).fill(iters), 'cpu'));
  },

  'queue-mixed'(c, p) {
    return mixedJobs(c, p);
  },
};

/**
 * Starts every thread and lets it optimise the task the scenario uses, the same for every
 * contestant.
 * @param {Contestant} c
 * @param {ScenarioId} scenario
 * @param {number} iters
 * @param {number} count the scenario's task count
 * @returns {Promise<void>}
 */
export async function warmUp(c, scenario, iters, count) {
  const streamed = Math.min(count, STREAM_WARM_UP);
  const n = 8 * c.parallelism;
  if (scenario === 'queue-cpu') {
    // corral's queue packs jobs into messages by what its hosts' recent jobs cost: tiny jobs
    // first would make it pack these hundreds to a message, measuring a switch between kinds
    // of job rather than this workload. So this warm-up runs only jobs of the measured kind.
    const batch = c.batch ?? batchByRun(c.run);
    for (let round = 0; round < 3; round++) await batch(new Array(n).fill(iters), 'cpu');
    return;
  }
  if (scenario === 'queue-long') {
    const batch = c.batch ?? batchByRun(c.run);
    await batch(new Array(n).fill(Math.round((iters * QUEUE_LONG_MS) / 5)), 'cpu');
    return;
  }
  if (scenario === 'queue-mixed') {
    const batch = c.batch ?? batchByRun(c.run);
    await batch(mixedInputs(n * 2, iters).reverse(), 'cpu');
    return;
  }
  for (let round = 0; round < 3; round++) {
    await Promise.all(Array.from({ length: n * 4 }, (_, i) => c.run('tiny', i)));
  }
  // Streams: also the API measured, long enough to optimise its path (as tinybench warms up).
  if (scenario === 'tiny-execute' && c.execute !== undefined) {
    await drainTiny(c.execute(ints(streamed), 'tiny'), streamed);
  }
  if (scenario === 'tiny-keyed' && c.executeKeyed !== undefined) {
    await drainTiny(c.executeKeyed(ints(streamed), 'tiny', 16), streamed);
  }
  if ((scenario === 'tiny-wrap' || scenario === 'wrap-stream') && c.wrap !== undefined) {
    await drainTiny(c.wrap(asyncInts(streamed), 'tiny'), streamed);
  }
  // Queues: also the batch path (in the client and in every host), long enough to optimise it.
  if (scenario === 'queue-tiny' && c.batch !== undefined) {
    await c.batch([...ints(QUEUE_WARM_UP)], 'tiny');
  }
  if (scenario === 'cpu') {
    const small = Math.max(1, Math.round(iters / 20));
    await Promise.all(Array.from({ length: n }, () => c.run('cpu', small)));
  }
  if (scenario === 'fine-20' || scenario === 'fine-100') {
    // The task at the size measured, enough of them to optimise it in every thread.
    const fineIters = fineItersFor(iters, FINE_US[scenario]);
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: n * 16 }, () => c.run('cpu', fineIters)));
    }
  }
  if (scenario === 'payload-copy' || scenario === 'payload-transfer') {
    await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const buf = makePayload(i);
        return c.run('payload', buf, scenario === 'payload-transfer' ? [buf.buffer] : undefined);
      }),
    );
  }
}

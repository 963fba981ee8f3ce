/**
 * Measures one point: the task called inline on the main thread, or run through a pool of
 * some threads, for a time window split into samples after a warm-up.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { Pool } from '../pool/pool.js';
import { percentile } from './stats.js';

/** What one point measured, before it is compared with the others. */
export interface RawPoint {
  /** Jobs per second of each sample. */
  samples: number[];
  /** Jobs finished in the samples (the warm-up left out). */
  jobs: number;
  /** Wall time of the samples, in seconds. */
  seconds: number;
  /** Run time of one job, p50 and p99, in milliseconds. */
  runTime: { p50: number; p99: number };
  /** The task's own time per job, in ms: measured around each call inline, from the threads' busy time on a pool. */
  taskMs: number;
  /** The largest resident set size seen while the point ran, in bytes. */
  peakRss: number;
}

/** How long a point runs: a warm-up, then `samples` windows of `sampleMs` each. */
export interface Plan {
  warmUpMs: number;
  sampleMs: number;
  samples: number;
}

/** The plan of each point when `timeMs` is shared by `points` points (the inline one included). */
export function planFor(timeMs: number, points: number, samples: number): Plan {
  const pointMs = timeMs / points;
  return { warmUpMs: Math.max(100, pointMs / 5), sampleMs: pointMs / samples, samples };
}

/** Watches the process's RSS (the threads' memory included) until stopped. */
function watchRss(): () => number {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  return () => {
    clearInterval(timer);
    return Math.max(peak, process.memoryUsage.rss());
  };
}

/** An endless walk over the inputs. */
function cycle(inputs: readonly unknown[]): () => unknown {
  let i = 0;
  return () => {
    const input = inputs[i];
    i = (i + 1) % inputs.length;
    return input;
  };
}

/**
 * The task called on the main thread, one job after another: the ceiling of one core with
 * no pool at all. Each call is timed for the run-time percentiles; an async task is awaited.
 */
export async function measureInline(
  task: (input: unknown) => unknown,
  inputs: readonly unknown[],
  plan: Plan,
): Promise<RawPoint> {
  const next = cycle(inputs);
  const stop = watchRss();
  const times: number[] = [];
  const window = async (ms: number, keep: boolean): Promise<{ jobs: number; ms: number }> => {
    const t0 = performance.now();
    const end = t0 + ms;
    let jobs = 0;
    let now = t0;
    // Yields to the event loop now and then, so the RSS watcher still runs.
    let lastYield = t0;
    while (now < end) {
      const a = performance.now();
      const r = task(next());
      if (r instanceof Promise) await r;
      now = performance.now();
      if (keep) times.push(now - a);
      jobs++;
      if (now - lastYield > 50) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = now = performance.now();
      }
    }
    return { jobs, ms: now - t0 };
  };
  try {
    await window(plan.warmUpMs, false);
    const samples: number[] = [];
    let jobs = 0;
    let ms = 0;
    for (let s = 0; s < plan.samples; s++) {
      const w = await window(plan.sampleMs, true);
      samples.push((w.jobs * 1000) / w.ms);
      jobs += w.jobs;
      ms += w.ms;
    }
    return {
      samples,
      jobs,
      seconds: ms / 1000,
      runTime: { p50: percentile(times, 0.5), p99: percentile(times, 0.99) },
      taskMs: times.reduce((a, b) => a + b, 0) / times.length,
      peakRss: stop(),
    };
  } finally {
    stop();
  }
}

/**
 * Keeps `inFlight` jobs submitted with `pool.do` until `ms` have passed, then waits for the
 * last ones: the wall time counts that tail, so jobs x time stays the jobs that ran.
 */
function window(
  pool: Pool,
  task: string,
  next: () => unknown,
  inFlight: number,
  ms: number,
): Promise<{ jobs: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const end = t0 + ms;
    let jobs = 0;
    let running = 0;
    let failed = false;
    const submit = (): void => {
      running++;
      pool.do(next(), { task }).then(
        () => {
          running--;
          jobs++;
          if (failed) return;
          if (performance.now() < end) submit();
          else if (running === 0) resolve({ jobs, ms: performance.now() - t0 });
        },
        (error: unknown) => {
          running--;
          // What the task threw, passed on as it is (it may not be an Error).
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          if (!failed) reject(error);
          failed = true;
        },
      );
    };
    for (let i = 0; i < inFlight; i++) submit();
  });
}

/**
 * The task through a pool of `threads` threads, one `pool.do` per job, with enough jobs in
 * flight to keep every thread busy. With `batched`, the jobs go through `pool.execute`
 * instead, which sends small tasks in chunks: what batching changes.
 */
export async function measurePool(
  module: URL,
  task: string,
  inputs: readonly unknown[],
  threads: number,
  plan: Plan,
  batched = false,
): Promise<RawPoint> {
  const pool = new Pool({ module, threads });
  const stop = watchRss();
  try {
    await pool.ready();
    const next = cycle(inputs);
    // Two jobs per thread, so a thread never waits on the main thread between jobs (with one,
    // a busy machine that delays the main thread showed up as the pool's overhead). The pool
    // times a job from a thread taking it, so a job held by a busy thread counts that wait in
    // the run-time percentiles; the task's own time comes from the threads' busy time.
    const run = (ms: number): Promise<{ jobs: number; ms: number }> =>
      batched ? executeFor(pool, task, next, ms) : window(pool, task, next, threads * 2, ms);
    await run(plan.warmUpMs);
    const before = pool.stats();
    const samples: number[] = [];
    let jobs = 0;
    let ms = 0;
    for (let s = 0; s < plan.samples; s++) {
      const w = await run(plan.sampleMs);
      samples.push((w.jobs * 1000) / w.ms);
      jobs += w.jobs;
      ms += w.ms;
    }
    const after = pool.stats();
    const { runTime } = after;
    return {
      samples,
      jobs,
      seconds: ms / 1000,
      runTime: { p50: runTime.p50, p99: runTime.p99 },
      taskMs: (after.busyTime - before.busyTime) / (after.completed - before.completed),
      peakRss: stop(),
    };
  } finally {
    stop();
    await pool.shutdown();
  }
}

/** Jobs through `pool.execute` from a source that ends after `ms`. */
async function executeFor(
  pool: Pool,
  task: string,
  next: () => unknown,
  ms: number,
): Promise<{ jobs: number; ms: number }> {
  const t0 = performance.now();
  const end = t0 + ms;
  function* source(): Generator {
    while (performance.now() < end) yield next();
  }
  let jobs = 0;
  for await (const o of pool.execute(source(), { task })) {
    if (!o.ok) throw o.error;
    jobs++;
  }
  return { jobs, ms: performance.now() - t0 };
}

/**
 * Counters, latency histograms and thread utilization for `pool.stats()`.
 */
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { tally, type Fates } from './chunk.js';

/** Percentiles of a latency, in milliseconds. */
export interface Latency {
  /** Jobs timed: all of the first 1,024, then one in 8 (see {@link PoolStats}). */
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * A snapshot of the pool, from `pool.stats()`.
 *
 * Wait and run times are sampled: every one of a pool's first 1,024 jobs is timed, then one
 * job in 8. Timing a job costs the main thread two clock reads and two histogram records
 * (0.3–0.6 µs on a 2-core test machine), a large share of the ~2 µs a tiny job costs at the
 * pool's full rate; one in 8 keeps that to a few percent and still gives 125 samples a
 * second at 1,000 jobs/s. Counters and {@link PoolStats.utilization} count every job.
 *
 * @example
 * ```ts
 * const a = pool.stats();
 * await new Promise((r) => setTimeout(r, 10_000));
 * const b = pool.stats();
 * // Utilization over the last 10 s rather than since the pool started:
 * const recent = (b.busyTime - a.busyTime) / (b.threadTime - a.threadTime);
 * ```
 */
export interface PoolStats {
  /** Worker threads alive (starting, ready or finishing their jobs). */
  threads: number;
  /**
   * Jobs not started yet, up to `maxQueue`: in the pool's queue, or sent to a thread
   * that holds them until it has room (prefetched).
   */
  queued: number;
  /** Jobs not started beyond `maxQueue` (with `queueFull: 'wait'`). */
  waiting: number;
  /** Jobs a thread has started and that have not settled. */
  running: number;
  /** Jobs that resolved. */
  completed: number;
  /** Jobs that rejected (aborted ones included). */
  failed: number;
  /** Attempts started again after a crash, a timeout or a `retryable()` error. */
  retried: number;
  /** Threads that died without being asked to (crash, exit, out of memory, timeout). */
  crashes: number;
  /** Threads replaced because they passed a `recycle` limit (not crashes). */
  recycled: number;
  /**
   * Time from submission until a thread took the job. Sampled: every one of the pool's first
   * 1,024 jobs, then one in 8, so `count` is not the number of jobs (see {@link PoolStats}).
   */
  waitTime: Latency;
  /**
   * Time from a thread taking the job until it settled (the last attempt), seen from the
   * main thread. Sampled like {@link waitTime}.
   */
  runTime: Latency;
  /**
   * The fraction of thread time spent running jobs since the pool started, from 0 to 1:
   * {@link busyTime} / {@link threadTime}. Threads that exited still count, so after
   * `shutdown()` this is the pool's lifetime figure. For a recent window, take the
   * difference of `busyTime` and `threadTime` between two snapshots.
   *
   * Threads report their busy time with their results, so a job counts once it has
   * finished: during a job longer than the interval you read at, the figure lags. With
   * `concurrency` above 1 the run times of overlapping jobs add up, and a thread awaiting
   * several async jobs can count as fully busy; each thread counts at most its own time.
   */
  utilization: number;
  /**
   * Milliseconds the threads spent running jobs, summed over threads (every job, not
   * sampled), as measured inside each thread; at most {@link threadTime}.
   */
  busyTime: number;
  /**
   * Milliseconds of thread time the pool had to run jobs: for each thread, from when it was
   * ready (module loaded, `init()` done) until it exited or now, summed over threads.
   */
  threadTime: number;
}

/** Every job up to this id is timed... */
const TIME_ALL_FIRST = 1024;
/** ...then one in this many (a power of two: the test is a mask). */
const TIME_ONE_IN = 8;

/**
 * Whether the job with this id (ids count from 1 per pool) has its wait and run times
 * recorded. The same answer at submission and at settling, so no per-job flag is needed.
 */
export function timed(id: number): boolean {
  return (id & (TIME_ONE_IN - 1)) === 0 || id <= TIME_ALL_FIRST;
}

/** One live thread's time. */
interface ThreadTime {
  /** `performance.now()` when it became ready. */
  since: number;
  /** Milliseconds it reported running jobs. */
  busy: number;
}

/** The counters the engine keeps; turned into {@link PoolStats} on demand. */
export class StatsRecorder {
  completed = 0;
  failed = 0;
  retried = 0;
  crashes = 0;
  recycled = 0;

  /** Counts a settled job: a chunk as its inputs (those that run again count when they settle). */
  settled(
    job: { readonly chunk: boolean; readonly size: number },
    ok: boolean,
    value: unknown,
  ): void {
    if (!job.chunk) {
      if (ok) this.completed++;
      else this.failed++;
      return;
    }
    if (!ok) {
      this.failed += job.size;
      return;
    }
    const counts = tally(value as Fates);
    this.completed += counts.ok;
    this.failed += counts.failed;
    this.retried += counts.retried;
  }
  /** Microseconds, at least 1 (histograms take positive integers). */
  readonly #wait: RecordableHistogram = createHistogram();
  readonly #run: RecordableHistogram = createHistogram();
  /** Live threads that became ready, by handle (any object the engine names a thread by). */
  readonly #threads = new Map<object, ThreadTime>();
  /** Busy and available milliseconds of the threads that exited. */
  #pastBusy = 0;
  #pastTime = 0;

  /** Records a wait, given two `performance.now()` readings. */
  wait(from: number, to: number): void {
    this.#wait.record(Math.max(1, Math.round((to - from) * 1000)));
  }

  /** Records a run, given two `performance.now()` readings. */
  run(from: number, to: number): void {
    this.#run.record(Math.max(1, Math.round((to - from) * 1000)));
  }

  /** A thread became ready: its time available to run jobs starts now. */
  threadReady(thread: object): void {
    if (!this.#threads.has(thread))
      this.#threads.set(thread, { since: performance.now(), busy: 0 });
  }

  /** A thread reported `ms` spent running the jobs of a results batch. */
  threadBusy(thread: object, ms: number): void {
    const t = this.#threads.get(thread);
    // A thread that never became ready has run no job.
    if (t !== undefined) t.busy += ms;
  }

  /** A thread exited: its time is final. */
  threadExited(thread: object): void {
    const t = this.#threads.get(thread);
    if (t === undefined) return;
    this.#threads.delete(thread);
    const time = performance.now() - t.since;
    this.#pastTime += time;
    this.#pastBusy += Math.min(t.busy, time);
  }

  snapshot(live: Pick<PoolStats, 'threads' | 'queued' | 'waiting' | 'running'>): PoolStats {
    const now = performance.now();
    let busyTime = this.#pastBusy;
    let threadTime = this.#pastTime;
    for (const t of this.#threads.values()) {
      const time = now - t.since;
      threadTime += time;
      busyTime += Math.min(t.busy, time);
    }
    return {
      ...live,
      completed: this.completed,
      failed: this.failed,
      retried: this.retried,
      crashes: this.crashes,
      recycled: this.recycled,
      waitTime: latency(this.#wait),
      runTime: latency(this.#run),
      utilization: threadTime > 0 ? busyTime / threadTime : 0,
      busyTime,
      threadTime,
    };
  }
}

function latency(h: RecordableHistogram): Latency {
  const count = h.count;
  if (count === 0) return { count, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  return {
    count,
    mean: h.mean / 1000,
    p50: h.percentile(50) / 1000,
    p90: h.percentile(90) / 1000,
    p99: h.percentile(99) / 1000,
    max: h.max / 1000,
  };
}

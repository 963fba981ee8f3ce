/**
 * Counters and latency histograms for `pool.stats()`.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Percentiles of a latency, in milliseconds. */
export interface Latency {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** A snapshot of the pool, from `pool.stats()`. */
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
  /** Time from submission until a thread took the job (sampled: one job in 8). */
  waitTime: Latency;
  /** Time from a thread taking the job until it settled (the last attempt; sampled: one job in 8). */
  runTime: Latency;
}

/** The counters the engine keeps; turned into {@link PoolStats} on demand. */
export class StatsRecorder {
  completed = 0;
  failed = 0;
  retried = 0;
  crashes = 0;
  /** Microseconds, at least 1 (histograms take positive integers). */
  readonly #wait: RecordableHistogram = createHistogram();
  readonly #run: RecordableHistogram = createHistogram();

  /** Records a wait, given two `performance.now()` readings. */
  wait(from: number, to: number): void {
    this.#wait.record(Math.max(1, Math.round((to - from) * 1000)));
  }

  /** Records a run, given two `performance.now()` readings. */
  run(from: number, to: number): void {
    this.#run.record(Math.max(1, Math.round((to - from) * 1000)));
  }

  snapshot(live: Pick<PoolStats, 'threads' | 'queued' | 'waiting' | 'running'>): PoolStats {
    return {
      ...live,
      completed: this.completed,
      failed: this.failed,
      retried: this.retried,
      crashes: this.crashes,
      waitTime: latency(this.#wait),
      runTime: latency(this.#run),
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

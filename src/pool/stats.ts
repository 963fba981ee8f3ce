/**
 * Counters, latency histograms and thread utilization for `pool.stats()`.
 */
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { tally, type Fates } from './chunk.js';
import { RecentWindow, type Counters } from './stats-window.js';

/**
 * Internal: `pool[readBusy]()` reads the pool's lifetime busy time and settled jobs (see
 * {@link StatsRecorder.busy}) without a whole `stats()` snapshot. Not part of the public API.
 * @internal
 */
export const readBusy: unique symbol = Symbol('corral.readBusy');

/**
 * Internal: `pool[readCounters]()` reads the counters of {@link PoolStats} (see
 * {@link PoolCounters}) without its percentiles and recent window. Not part of the public API.
 * @internal
 */
export const readCounters: unique symbol = Symbol('corral.readCounters');

/**
 * The figures of {@link PoolStats} that are counters, as `stats()` gives them: what a queue
 * host's dashboard snapshot carries, once a second. A whole snapshot also merges the
 * histograms of its percentiles and of the recent window, most of its cost.
 */
export type PoolCounters = Pick<
  PoolStats,
  'threads' | 'running' | 'completed' | 'failed' | 'retried' | 'crashes' | 'busyTime' | 'threadTime'
>;

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
  /**
   * Threads that died without being asked to (crash, exit, out of memory, timeout). Counted
   * when the thread's exit is seen: a thread terminated for a timeout may still be counted
   * after the job's retry settled elsewhere.
   */
  crashes: number;
  /** Threads replaced because they passed a `recycle` limit (not crashes). */
  recycled: number;
  /**
   * Time from submission until a thread started the job (its last attempt; time held
   * unstarted by a thread counts here, as in `queued`). Sampled: every one of the pool's
   * first 1,024 jobs, then one in 8, so `count` is not the number of jobs (see {@link PoolStats}).
   */
  waitTime: Latency;
  /**
   * Time from a thread starting the job (its last attempt) until it settled, seen from
   * the main thread. Sampled like {@link waitTime}.
   */
  runTime: Latency;
  /**
   * The fraction of thread time spent running jobs since the pool started, from 0 to 1:
   * {@link busyTime} / {@link threadTime}. Threads that exited still count, so after
   * `shutdown()` this is the pool's lifetime figure. {@link PoolStats.recent} has it over a
   * recent window; for another span, take the difference of `busyTime` and `threadTime`
   * between two snapshots.
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
  /**
   * The same figures over a recent window only: about the last `statsWindow` ms (60 s by
   * default; see {@link RecentStats.window}). The lifetime figures above never reset.
   */
  recent: RecentStats;
}

/**
 * {@link PoolStats}' figures over a recent window (`stats().recent`), so a dashboard or a
 * long-running service sees now rather than the pool's whole life. The window moves in
 * steps of 1/12 of `statsWindow`: it covers from `statsWindow` to 13/12 of it (less while
 * the pool is younger), and `window` says exactly how much.
 *
 * @example
 * ```ts
 * const { recent } = pool.stats();
 * console.log(`${(recent.completed / recent.window) * 1000} jobs/s, p99 ${recent.runTime.p99} ms`);
 * ```
 */
export interface RecentStats {
  /** Milliseconds the figures cover, up to now. */
  window: number;
  /** Jobs that resolved in the window. */
  completed: number;
  /** Jobs that rejected in the window. */
  failed: number;
  /** Attempts started again in the window. */
  retried: number;
  /** Threads that crashed in the window. */
  crashes: number;
  /** Wait times recorded in the window (sampled as the lifetime ones). */
  waitTime: Latency;
  /** Run times recorded in the window (sampled as the lifetime ones). */
  runTime: Latency;
  /** {@link busyTime} / {@link threadTime}: the threads' utilization in the window, 0 to 1. */
  utilization: number;
  /** Milliseconds the threads spent running jobs in the window (reported with results). */
  busyTime: number;
  /** Milliseconds of thread time in the window, summed over threads. */
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

/** What {@link StatsRecorder.timed} reads of a job: `performance.now()` readings, 0 for unseen. */
export interface TimedJob {
  readonly queuedAt: number;
  readonly sentAt: number;
  readonly startedAt: number;
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
  /** `stats().recent`. */
  readonly #recent: RecentWindow;

  /** `windowMs`: the span of `stats().recent` (the pool's `statsWindow`). */
  constructor(windowMs: number) {
    this.#recent = new RecentWindow(windowMs, performance.now(), this.#countersAt(0));
  }

  /** Turns the recent window if `now` is past its newest slot. */
  #tick(now: number): void {
    if (this.#recent.due(now)) this.#recent.turn(now, this.#countersAt);
  }

  /** The lifetime counters, with thread time as it was at `t` (a `performance.now()` reading). */
  readonly #countersAt = (t: number): Counters => {
    const { busyTime, threadTime } = this.#times(t);
    return {
      completed: this.completed,
      failed: this.failed,
      retried: this.retried,
      crashes: this.crashes,
      busyTime,
      threadTime,
    };
  };

  /** Lifetime busy and thread time at `now`. */
  #times(now: number): { busyTime: number; threadTime: number } {
    let busyTime = this.#pastBusy;
    let threadTime = this.#pastTime;
    for (const t of this.#threads.values()) {
      const time = Math.max(0, now - t.since);
      threadTime += time;
      busyTime += Math.min(t.busy, time);
    }
    return { busyTime, threadTime };
  }

  /**
   * Records a sampled job's wait (queued to started) and run (started to now, its settling).
   * A job whose start the pool did not see before its result started after its thread's
   * last look at the start counter (`lookedAt`), and not before it was sent.
   */
  timed(job: TimedJob, lookedAt: number): void {
    const started = job.startedAt || Math.max(job.sentAt, lookedAt);
    this.wait(job.queuedAt, started);
    this.run(started, performance.now());
  }

  /** Records a wait, given two `performance.now()` readings. */
  wait(from: number, to: number): void {
    const us = Math.max(1, Math.round((to - from) * 1000));
    this.#wait.record(us);
    this.#tick(to);
    this.#recent.wait(us);
  }

  /** Records a run, given two `performance.now()` readings. */
  run(from: number, to: number): void {
    const us = Math.max(1, Math.round((to - from) * 1000));
    this.#run.record(us);
    this.#tick(to);
    this.#recent.run(us);
  }

  /** A thread became ready: its time available to run jobs starts now. */
  threadReady(thread: object): void {
    if (this.#threads.has(thread)) return;
    const now = performance.now();
    this.#tick(now);
    this.#threads.set(thread, { since: now, busy: 0 });
  }

  /** A thread reported `ms` spent running the jobs of a results batch. */
  threadBusy(thread: object, ms: number): void {
    // Once per results batch: the busy time belongs to the slot of now, not an old one.
    this.#tick(performance.now());
    const t = this.#threads.get(thread);
    // A thread that never became ready has run no job.
    if (t !== undefined) t.busy += ms;
  }

  /** A thread exited: its time is final. */
  threadExited(thread: object): void {
    const t = this.#threads.get(thread);
    if (t === undefined) return;
    const now = performance.now();
    this.#tick(now);
    this.#threads.delete(thread);
    const time = now - t.since;
    this.#pastTime += time;
    this.#pastBusy += Math.min(t.busy, time);
  }

  /**
   * The lifetime busy time and settled jobs now, as in {@link snapshot} (`busyTime`,
   * `completed + failed`), without its percentiles and recent window: a host reads it at
   * the end of every job message, and a snapshot there cost more than the message's hand-over.
   */
  busy(): { busyTime: number; jobs: number } {
    return {
      busyTime: this.#times(performance.now()).busyTime,
      jobs: this.completed + this.failed,
    };
  }

  /** The counters of {@link snapshot}, given the live figures, without its histograms. */
  counters(live: Pick<PoolStats, 'threads' | 'running'>, now = performance.now()): PoolCounters {
    return {
      threads: live.threads,
      running: live.running,
      completed: this.completed,
      failed: this.failed,
      retried: this.retried,
      crashes: this.crashes,
      ...this.#times(now),
    };
  }

  snapshot(live: Pick<PoolStats, 'threads' | 'queued' | 'waiting' | 'running'>): PoolStats {
    const now = performance.now();
    this.#tick(now);
    const counters = this.counters(live, now);
    const { busyTime, threadTime } = counters;
    const recent = this.#recent.read();
    const from = recent.from.start;
    const recentBusy = busyTime - from.busyTime;
    const recentThread = threadTime - from.threadTime;
    return {
      ...counters,
      queued: live.queued,
      waiting: live.waiting,
      recycled: this.recycled,
      waitTime: latency(this.#wait),
      runTime: latency(this.#run),
      utilization: threadTime > 0 ? busyTime / threadTime : 0,
      recent: {
        window: now - recent.from.at,
        completed: this.completed - from.completed,
        failed: this.failed - from.failed,
        retried: this.retried - from.retried,
        crashes: this.crashes - from.crashes,
        waitTime: latency(recent.wait),
        runTime: latency(recent.run),
        utilization: recentThread > 0 ? Math.min(1, Math.max(0, recentBusy / recentThread)) : 0,
        busyTime: recentBusy,
        threadTime: recentThread,
      },
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

/**
 * The dashboard's memory: throughput points, recent jobs and failures, run-time histograms,
 * the hosts seen and the batch in progress. The page holds none of it that matters: it gets
 * {@link DashboardHistory.snapshot} on connect and each tick after.
 *
 * @module
 */
import {
  GONE_AFTER,
  HIST_BUCKETS,
  histBucket,
  MAX_FAILURES,
  SERIES_POINTS,
  STREAM_JOBS,
  STREAM_MS,
  TICK_JOBS,
  type BatchRow,
  type Failure,
  type HostRow,
  type JobSpan,
  type Snapshot,
  type Tick,
} from './model.js';
import type { HostReading, Reading } from './source.js';

/** Seconds of throughput the ETA is estimated from. */
const ETA_WINDOW = 10;

/** Keeps what the page shows; one owner of all of it. */
export class DashboardHistory {
  readonly #title: string;
  readonly #time: number[] = [];
  readonly #completed: number[] = [];
  readonly #failed: number[] = [];
  /** Jobs of the last STREAM_MS, oldest first. */
  #jobs: JobSpan[] = [];
  /** Newest first. */
  #failures: Failure[] = [];
  readonly #histograms = new Map<string, number[]>();
  /** The previous report of each host, for its rates, and the rates it gave. */
  readonly #hosts = new Map<string, { reading: HostReading; rate: number; utilization: number }>();
  #previous: { time: number; completed: number; failed: number } | undefined;
  /** Where the batch in progress started: jobs done then. */
  #batchFrom: number | undefined;
  /** Jobs done at the last reading with none left: a batch counts from there. */
  #idleDone = 0;
  #last: Tick | null = null;

  constructor(title: string) {
    this.#title = title;
  }

  /** Takes a reading taken at `now` (epoch ms); returns the tick for the page. */
  advance(reading: Reading, now: number): Tick {
    const hosts = reading.hosts
      .map((h) => this.#hostRow(h, now))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const totals = reading.totals ?? {
      completed: reading.hosts.reduce((sum, h) => sum + h.completed, 0),
      failed: reading.hosts.reduce((sum, h) => sum + h.failed, 0),
    };
    const previous = this.#previous;
    const seconds = previous === undefined ? 0 : (now - previous.time) / 1000;
    const rate =
      previous === undefined || seconds <= 0
        ? { completed: 0, failed: 0 }
        : {
            completed: Math.max(0, totals.completed - previous.completed) / seconds,
            failed: Math.max(0, totals.failed - previous.failed) / seconds,
          };
    this.#previous = { time: now, ...totals };
    this.#push(now, rate);

    const jobs = reading.jobs.slice(-TICK_JOBS);
    this.#jobs.push(...jobs);
    const since = now - STREAM_MS;
    let drop = 0;
    while (drop < this.#jobs.length && (this.#jobs[drop]?.end ?? 0) < since) drop++;
    drop = Math.max(drop, this.#jobs.length - STREAM_JOBS);
    if (drop > 0) this.#jobs = this.#jobs.slice(drop);
    const failures = [...reading.failures].reverse().slice(0, MAX_FAILURES);
    this.#failures = [...failures, ...this.#failures].slice(0, MAX_FAILURES);
    for (const { task, ms } of reading.runTimes) {
      let counts = this.#histograms.get(task);
      if (counts === undefined) {
        counts = new Array<number>(HIST_BUCKETS).fill(0);
        this.#histograms.set(task, counts);
      }
      counts[histBucket(ms)] = (counts[histBucket(ms)] ?? 0) + 1;
    }
    const tick: Tick = {
      time: now,
      ...totals,
      rate,
      hosts,
      queue: reading.queue,
      batch: this.#batch(totals.completed + totals.failed, reading.remaining),
      jobs,
      failures,
      histograms: Object.fromEntries(this.#histograms),
    };
    this.#last = tick;
    return tick;
  }

  /** Everything the page needs on connect. */
  snapshot(): Snapshot {
    return {
      title: this.#title,
      series: { time: this.#time, completed: this.#completed, failed: this.#failed },
      jobs: this.#jobs,
      failures: this.#failures,
      last: this.#last,
    };
  }

  #push(now: number, rate: { completed: number; failed: number }): void {
    this.#time.push(now);
    this.#completed.push(rate.completed);
    this.#failed.push(rate.failed);
    if (this.#time.length > SERIES_POINTS) {
      this.#time.shift();
      this.#completed.shift();
      this.#failed.shift();
    }
  }

  #hostRow(h: HostReading, now: number): HostRow {
    const known = this.#hosts.get(h.id);
    let rate = known?.rate ?? 0;
    let utilization = known?.utilization ?? (h.threadTime > 0 ? h.busyTime / h.threadTime : 0);
    if (known !== undefined && h.time > known.reading.time) {
      const seconds = (h.time - known.reading.time) / 1000;
      const settled = h.completed + h.failed - known.reading.completed - known.reading.failed;
      rate = Math.max(0, settled) / seconds;
      const threadTime = h.threadTime - known.reading.threadTime;
      utilization =
        threadTime > 0
          ? Math.min(1, Math.max(0, (h.busyTime - known.reading.busyTime) / threadTime))
          : 0;
    }
    if (known === undefined || h.time > known.reading.time)
      this.#hosts.set(h.id, { reading: h, rate, utilization });
    const gone = h.state !== 'left' && now - h.time > GONE_AFTER;
    return {
      id: h.id,
      name: h.name,
      threads: h.threads,
      utilization: gone || h.state === 'left' ? 0 : utilization,
      jobsPerSec: gone || h.state === 'left' ? 0 : rate,
      running: gone || h.state === 'left' ? 0 : h.running,
      completed: h.completed,
      failed: h.failed,
      crashes: h.crashes,
      lastSeen: h.time,
      state: gone ? 'gone' : h.state,
    };
  }

  /**
   * The batch in progress: it starts when jobs are left after none were, and ends when none
   * are left. Its ETA comes from the throughput of the last {@link ETA_WINDOW} seconds.
   */
  #batch(done: number, remaining: number | null): BatchRow | null {
    if (remaining === null || remaining <= 0) {
      this.#batchFrom = undefined;
      this.#idleDone = done;
      return null;
    }
    // Jobs of the batch may have been done before the first reading that saw it.
    this.#batchFrom ??= this.#idleDone;
    const n = this.#time.length;
    const from = Math.max(0, n - ETA_WINDOW);
    let sum = 0;
    for (let i = from; i < n; i++) sum += (this.#completed[i] ?? 0) + (this.#failed[i] ?? 0);
    const perSecond = n > from ? sum / (n - from) : 0;
    const batchDone = done - this.#batchFrom;
    return {
      done: batchDone,
      total: batchDone + remaining,
      eta: perSecond > 0 ? (remaining / perSecond) * 1000 : null,
    };
  }
}

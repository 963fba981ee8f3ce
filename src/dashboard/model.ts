/**
 * What the dashboard's page receives over server-sent events: a {@link Snapshot} when it
 * connects (the recent history the server keeps), then a {@link Tick} every second. Every
 * string in it comes from tasks, errors or host names, and the page shows it as text.
 *
 * @module
 */

/** A host (or the local pool) as the page shows it. */
export interface HostRow {
  readonly id: string;
  readonly name: string;
  readonly threads: number;
  /** Busy share of the threads' time over the last update, 0 to 1. */
  readonly utilization: number;
  /** Jobs settled per second over the last update. */
  readonly jobsPerSec: number;
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  readonly crashes: number;
  /** Epoch ms when it last reported. */
  readonly lastSeen: number;
  /** `gone`: silent for longer than {@link GONE_AFTER}; `left`: it said it stopped. */
  readonly state: 'serving' | 'draining' | 'left' | 'gone';
}

/** A queue's messages (a cluster only). */
export interface QueueRow {
  readonly pending: number;
  readonly inFlight: number;
  readonly redelivered: number;
}

/** The batch in progress: since the pool (or queue) last had work left after being idle. */
export interface BatchRow {
  readonly done: number;
  /** `done` plus the jobs left (estimated from messages for a queue without its client). */
  readonly total: number;
  /** Ms left at the recent rate; null until there is a rate. */
  readonly eta: number | null;
}

/** A settled job in the task stream. */
export interface JobSpan {
  /** `host/thread`: the stream's lane. */
  readonly lane: string;
  readonly task: string;
  /** Epoch ms. */
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
}

/** A failed job. */
export interface Failure {
  /** Epoch ms. */
  readonly time: number;
  readonly host: string;
  readonly task: string;
  readonly code: string;
  readonly message: string;
}

/** Run-time histograms: per task, counts in {@link HIST_BUCKETS} buckets. */
export type Histograms = Readonly<Record<string, readonly number[]>>;

/** What changed in the last second. */
export interface Tick {
  /** Epoch ms. */
  readonly time: number;
  /** Jobs completed and failed, since the dashboard started. */
  readonly completed: number;
  readonly failed: number;
  /** Per second over the last update. */
  readonly rate: { readonly completed: number; readonly failed: number };
  readonly hosts: readonly HostRow[];
  readonly queue: QueueRow | null;
  readonly batch: BatchRow | null;
  /** Jobs settled since the last tick (at most {@link TICK_JOBS}). */
  readonly jobs: readonly JobSpan[];
  /** Failures since the last tick. */
  readonly failures: readonly Failure[];
  readonly histograms: Histograms;
}

/** The recent history, sent on connect. */
export interface Snapshot {
  /** What is watched: the queue's name, or `local pool`. */
  readonly title: string;
  /** Throughput, one point per tick, oldest first. */
  readonly series: {
    readonly time: readonly number[];
    readonly completed: readonly number[];
    readonly failed: readonly number[];
  };
  /** Jobs of the last {@link STREAM_MS}, oldest first. */
  readonly jobs: readonly JobSpan[];
  /** The last {@link MAX_FAILURES} failures, newest first. */
  readonly failures: readonly Failure[];
  /** The latest tick, or null before the first. */
  readonly last: Tick | null;
}

/** A host silent this long (ms) is marked gone. */
export const GONE_AFTER = 3000;
/** Throughput points kept: 10 minutes of ticks. */
export const SERIES_POINTS = 600;
/** The task stream's span, in ms. */
export const STREAM_MS = 60_000;
/** Jobs kept for the task stream, and sent per tick, at most. */
export const STREAM_JOBS = 5000;
export const TICK_JOBS = 1000;
/** Failures kept. */
export const MAX_FAILURES = 50;
/**
 * Histogram buckets: bucket `i` holds run times up to `2 ** (i + HIST_LOW)` ms, the last one
 * everything above; 2^-7 ms (8 µs) to 2^16 ms (65 s).
 */
export const HIST_LOW = -7;
export const HIST_BUCKETS = 24;

/** The bucket of a run time in ms. */
export function histBucket(ms: number): number {
  if (!(ms > 0)) return 0;
  const i = Math.ceil(Math.log2(ms)) - HIST_LOW;
  return Math.min(HIST_BUCKETS - 1, Math.max(0, i));
}

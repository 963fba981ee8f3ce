/**
 * The settled jobs of a local pool, one record each, for the dashboard's task stream,
 * run-time histogram and failures (the host publishes them too).
 *
 * @module
 */
import type { JobRecord } from '../index.js';
import type { Reading } from './source.js';

/** What the dashboard keeps of a settled job: epoch ms times, the error as strings. */
export interface SettledJob {
  readonly task: string;
  /** The thread's id; -1 if it never reached one (refused, or aborted while queued). */
  readonly thread: number;
  /** Epoch ms when a thread took it, and when it settled. */
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
}

/** A record's times as epoch ms (they are `performance.now()` readings of this process). */
export function settledJob(record: JobRecord): SettledJob {
  const origin = performance.timeOrigin;
  return {
    task: record.task,
    thread: record.threadId,
    // A job that never reached a thread (refused, or aborted while queued) takes no time.
    start: origin + (record.startedAt ?? record.settledAt),
    end: origin + record.settledAt,
    ok: record.ok,
    ...(record.error === undefined
      ? {}
      : { code: record.error.code, message: record.error.message }),
  };
}

/** Collects settled jobs between two reads, keeping at most `limit` (the latest). */
export class JobBuffer {
  #jobs: SettledJob[] = [];
  readonly #limit: number;
  /** Jobs dropped since the last take (beyond the limit). */
  dropped = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(job: SettledJob): void {
    this.#jobs.push(job);
    if (this.#jobs.length > 2 * this.#limit) {
      this.dropped += this.#jobs.length - this.#limit;
      this.#jobs = this.#jobs.slice(-this.#limit);
    }
  }

  /** The jobs since the last take, at most the limit. */
  take(): SettledJob[] {
    const jobs = this.#jobs.length > this.#limit ? this.#jobs.slice(-this.#limit) : this.#jobs;
    this.#jobs = [];
    this.dropped = 0;
    return jobs;
  }
}

/** A reading's jobs, failures and run times from settled jobs of one host. */
export function readingOfJobs(
  host: string,
  jobs: readonly SettledJob[],
): Pick<Reading, 'jobs' | 'failures' | 'runTimes'> {
  const ran = jobs.filter((j) => j.thread >= 0);
  return {
    jobs: ran.map((j) => ({
      lane: `${host}/${j.thread}`,
      task: j.task,
      start: j.start,
      end: j.end,
      ok: j.ok,
    })),
    failures: jobs
      .filter((j) => !j.ok)
      .map((j) => ({
        time: j.end,
        host,
        task: j.task,
        code: j.code ?? '',
        message: j.message ?? '',
      })),
    runTimes: ran.map((j) => ({ task: j.task, ms: j.end - j.start })),
  };
}

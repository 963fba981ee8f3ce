/**
 * What a pool's metrics count between scrapes, kept in plain numbers: a job settling costs a
 * few additions and a bucket search, not prom-client's label hashing, which would cost
 * microseconds a job at the pool's full rate. The metrics read these at scrape time.
 * Loads without prom-client.
 *
 * @module
 */
import { errorCode, type JobTallyListener } from '../observe/job-record.js';

/**
 * The buckets (seconds) of `corral_job_run_seconds` and `corral_job_wait_seconds`: 10 µs to
 * 60 s, about three to a decade (1, 2.5, 5), so a tiny job and a long one both land in
 * buckets narrow enough for `histogram_quantile` to mean something.
 */
export const JOB_SECONDS_BUCKETS: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
  0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** A histogram's counts: per bucket (not cumulative; the last is past the last bound). */
export class SecondsTally {
  readonly counts = new Float64Array(JOB_SECONDS_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  /** Counts `n` jobs (a chunk's inputs share their chunk's times) that took `seconds`. */
  observe(seconds: number, n = 1): void {
    let i = 0;
    while (i < JOB_SECONDS_BUCKETS.length && seconds > (JOB_SECONDS_BUCKETS[i] as number)) i++;
    (this.counts[i] as number) += n;
    this.sum += seconds * n;
    this.count += n;
  }
}

/** One pool's outcomes and times, from its job records. */
export class JobTally implements JobTallyListener {
  completed = 0;
  /** Failures by error code (`'none'` for an error without one). */
  readonly failed = new Map<string, number>();
  /** By task. */
  readonly run = new Map<string, SecondsTally>();
  readonly wait = new Map<string, SecondsTally>();

  settled(
    task: string,
    ok: number,
    errors: readonly unknown[] | undefined,
    submittedAt: number,
    startedAt: number | undefined,
    settledAt: number,
  ): void {
    this.completed += ok;
    if (errors !== undefined) {
      for (const error of errors) {
        const key = errorCode(error) || 'none';
        this.failed.set(key, (this.failed.get(key) ?? 0) + 1);
      }
    }
    // A job that never reached a thread (refused, aborted in the queue) neither waited for
    // one nor ran: it is counted, not timed.
    if (startedAt === undefined) return;
    const n = ok + (errors?.length ?? 0);
    tallyOf(this.wait, task).observe(Math.max(0, startedAt - submittedAt) / 1000, n);
    tallyOf(this.run, task).observe(Math.max(0, settledAt - startedAt) / 1000, n);
  }
}

function tallyOf(map: Map<string, SecondsTally>, task: string): SecondsTally {
  let tally = map.get(task);
  if (tally === undefined) map.set(task, (tally = new SecondsTally()));
  return tally;
}

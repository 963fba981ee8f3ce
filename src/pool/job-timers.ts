/**
 * The two clocks on a job sent to a thread, owned by the scheduler: a timed job's run-time
 * limit (from the thread's `started`), and an aborted job's grace (a task may ignore its
 * signal: past `abortGrace` its thread is replaced). The timer itself is the job's one
 * timer (see `util/settle-once.ts`), so settling the job stops it.
 *
 * @module
 */
import { WorkerCrashedError } from './errors.js';
import type { Job } from './job.js';
import type { ThreadHandle } from '../threads/thread.js';

export class JobTimers {
  readonly #abortGrace: number;
  /** What the scheduler does with a job that overran its timeout on `thread`. */
  readonly #timedOut: (thread: ThreadHandle<Job>, job: Job) => void;

  constructor(abortGrace: number, timedOut: (thread: ThreadHandle<Job>, job: Job) => void) {
    this.#abortGrace = abortGrace;
    this.#timedOut = timedOut;
  }

  /** A timed job started on `thread`: its clock runs. */
  started(thread: ThreadHandle<Job>, job: Job): void {
    if (job.settled || job.timeout === 0) return;
    job.startTimer(job.timeout, () => {
      if (!job.settled && thread.held.holds(job)) this.#timedOut(thread, job);
    });
  }

  /** An aborted job still runs on `holder`: if it has not left by the grace's end, its thread goes. */
  grace(holder: ThreadHandle<Job>, job: Job): void {
    job.startTimer(this.#abortGrace, () => {
      this.#graceOver(holder, job);
    });
  }

  /** The job's thread answered it or is gone: its clock (run time or grace) stops. */
  stop(job: Job): void {
    job.clearTimer();
  }

  #graceOver(holder: ThreadHandle<Job>, job: Job): void {
    if (!holder.held.holds(job)) return;
    // Its result (and others') may wait in the port while this thread was busy.
    holder.drain();
    if (!holder.held.holds(job) || holder.held.phase(job) === 'finished') return;
    holder.terminate(
      new WorkerCrashedError(
        `terminated: an aborted job did not settle within abortGrace (${this.#abortGrace} ms)`,
      ),
    );
  }
}

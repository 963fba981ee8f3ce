/**
 * What a thread's batch of results does to the jobs it answers: each settles, runs again
 * (a retryable error with tries left, or given back unstarted), or, for a chunk whose
 * thread is dying, keeps the answers sent so far until the thread's exit judges it.
 *
 * @module
 */
import { ResultStatus, readResults } from '../protocol/codec.js';
import { fromWire, type WireError } from '../protocol/wire-error.js';
import type { ThreadHandle } from '../threads/thread.js';
import { judgeAnswers } from './chunk.js';
import type { Scheduler } from './scheduler.js';

/**
 * Applies a results batch. Returns the jobs it counts as run (a chunk as its inputs), and
 * their task if they all share one (the policy sizes chunks by it).
 */
export function applyResults(
  thread: ThreadHandle,
  batch: unknown[],
  scheduler: Scheduler,
): { counted: number; task: string | undefined } {
  let counted = 0;
  /** The task of every result so far, if they share one; null if not. */
  let task: string | null | undefined;
  readResults(batch, (id, status, value) => {
    const job = thread.job(id);
    if (job === undefined) return;
    if (task !== job.task) task = task === undefined ? job.task : null;
    if (status === ResultStatus.Part) {
      job.keepPart(value as unknown[]); // the thread is dying: its exit settles the chunk
      return;
    }
    if (status === ResultStatus.Dropped) thread.forget(job);
    scheduler.leave(thread, job);
    // Given up on this thread (it overran its timeout and went on elsewhere): its timer
    // and its outcome belong to where it is now.
    if (job.holder !== thread) return;
    job.clearTimer();
    if (job.settled) return;
    if (status === ResultStatus.Ok) {
      counted++;
      scheduler.settle(job, true, value);
    } else if (status === ResultStatus.Chunk) {
      counted += job.size;
      scheduler.settle(job, true, judgeAnswers(job, value as unknown[]));
    } else if (status === ResultStatus.Dropped) {
      scheduler.requeue(job, false, true); // it never ran: the attempt is given back
    } else {
      counted++;
      const wire = value as WireError;
      if (wire.retry && job.tries < job.maxTries) scheduler.requeue(job, true, false);
      else scheduler.settle(job, false, fromWire(wire));
    }
  });
  return { counted, task: task ?? undefined };
}

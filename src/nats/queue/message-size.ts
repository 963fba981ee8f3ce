/**
 * How many jobs a client puts in one job message: as many as make a target amount of a
 * thread's work, by the hosts' estimate of a job's cost. The target grows with the work
 * still waiting behind the message, so that a long batch travels in few messages (each
 * costs a stored message, a started mark, a result message and a confirmed ack), and
 * shrinks to single jobs as the batch's end nears, so that no host sits idle while another
 * still holds a long message: a message holds at most 1/{@link SPREAD} of the work that
 * waits, within {@link MIN_TARGET_MS} and {@link MAX_TARGET_MS}.
 *
 * @module
 */

/** Jobs per message, at most. */
export const MAX_JOBS = 256;
/** A thread's work one message holds near a batch's end, in ms. */
export const MIN_TARGET_MS = 5;
/** A thread's work one message holds while much waits, in ms, at most. */
export const MAX_TARGET_MS = 50;
/** A message holds at most this fraction (1/SPREAD) of the work waiting, down to the minimum. */
export const SPREAD = 64;

/** The work one message should hold, in ms, while `waitingMs` of work waits (this message's included). */
export function targetMs(waitingMs: number): number {
  return Math.min(MAX_TARGET_MS, Math.max(MIN_TARGET_MS, waitingMs / SPREAD));
}

/**
 * Jobs the next message should hold: `perJobMs` is the hosts' estimate of a job's cost (0
 * or less: none yet, one job a message), `waiting` the jobs not yet sent.
 */
export function jobsPerMessage(perJobMs: number, waiting: number): number {
  if (!(perJobMs > 0)) return 1;
  const jobs = Math.round(targetMs(waiting * perJobMs) / perJobMs);
  return Math.max(1, Math.min(MAX_JOBS, waiting, jobs));
}

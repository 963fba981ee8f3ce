/**
 * How many jobs a client puts in one job message: as many as make a target amount of a
 * thread's work, by the hosts' estimate of a job's cost. The target grows with the work
 * still waiting behind the message, so that a long batch travels in few messages (each
 * costs a stored message, a pull, a result message and a confirmed ack), and shrinks to
 * single jobs as the batch's end nears, so that no host sits idle while another still holds
 * a long message: a message holds at most 1/spread of the work that waits, within
 * {@link MIN_TARGET_MS} and {@link MAX_TARGET_MS}. The spread follows the thread slots
 * serving the queue ({@link spreadFor}): the last messages are shared among that many
 * slots, and a message larger than its share of the work left would leave the others idle.
 *
 * @module
 */

/** Jobs per message, at most. */
export const MAX_JOBS = 256;
/** A thread's work one message holds near a batch's end, in ms. */
export const MIN_TARGET_MS = 5;
/** A thread's work one message holds while much waits, in ms, at most. */
export const MAX_TARGET_MS = 100;
/** The spread while the thread slots serving the queue are not known (up to 32 slots). */
export const SPREAD = 64;
/** The spread at its smallest (a queue of 1 to 4 slots). */
export const MIN_SPREAD = 8;

/**
 * The share of the waiting work one message may hold (1/spread), for `slots` thread slots
 * (undefined: not known): twice the slots, so that the work behind a batch's last messages
 * covers every slot about twice, within {@link MIN_SPREAD} and {@link SPREAD}.
 */
export function spreadFor(slots: number | undefined): number {
  if (slots === undefined || !(slots > 0)) return SPREAD;
  return Math.min(SPREAD, Math.max(MIN_SPREAD, 2 * slots));
}

/**
 * The work one message should hold, in ms, while `waitingMs` of work waits (this message's
 * included), shared among `slots` thread slots (undefined: not known).
 */
export function targetMs(waitingMs: number, slots?: number): number {
  return Math.min(MAX_TARGET_MS, Math.max(MIN_TARGET_MS, waitingMs / spreadFor(slots)));
}

/**
 * Jobs the next message should hold: `perJobMs` is the hosts' estimate of a job's cost (0
 * or less: none yet, one job a message), `waiting` the jobs not yet sent, `slots` the thread
 * slots serving the queue (undefined: not known).
 */
export function jobsPerMessage(perJobMs: number, waiting: number, slots?: number): number {
  if (!(perJobMs > 0)) return 1;
  const jobs = Math.round(targetMs(waiting * perJobMs, slots) / perJobMs);
  return Math.max(1, Math.min(MAX_JOBS, waiting, jobs));
}

/**
 * Crash triage: when a thread dies (crash, timeout, abort grace, forced exit) the pool
 * must decide, for each job the thread still held, whether it runs again and whether that
 * costs a try. The thread's two shared counters are all that survive it: the sequence
 * number of the last job it started, and the watermark up to which every job finished.
 * Pure functions, so the rules can be tested without threads.
 */

/** How far a thread got with one of its jobs. */
export type Phase = 'unstarted' | 'running' | 'finished';

/**
 * Where a job of sequence number `seq` stood when the thread died. Jobs start in order of
 * receipt, so a job after the last one started never ran.
 */
export function phaseOf(seq: number, started: number, finished: number, size = 1): Phase {
  if (seq > started) return 'unstarted';
  // A chunk of `size` inputs from `seq`: finished once its last input is; running between.
  return seq + size - 1 <= finished ? 'finished' : 'running';
}

/** What becomes of a job its dead thread can no longer answer for. */
export type Verdict =
  /** It never ran: back to the head of the queue; the try it was sent with is given back. */
  | 'requeue'
  /** It ran to the end but its result died with the thread: again, without using a try. */
  | 'rerun'
  /** It was cut off while running and has tries left: again, using a try. */
  | 'retry'
  /** It had finished, its result is lost, and it may not run twice (`maxTries` 1). */
  | 'lost'
  /** It was cut off while running and has no tries left. */
  | 'crashed';

/**
 * The verdict for one job. `tries` counts the attempts started so far, this one included.
 * A finished job is run again only when it may run more than once at all (`maxTries > 1`),
 * since it may have had side effects, or when `killedByPool`: the pool itself terminated
 * the thread (another job's timeout, or an aborted job past `abortGrace`), so the loss of
 * the result is the pool's doing, never the job's, and it runs again even with maxTries 1.
 */
export function crashVerdict(
  phase: Phase,
  tries: number,
  maxTries: number,
  killedByPool = false,
): Verdict {
  switch (phase) {
    case 'unstarted':
      return 'requeue';
    case 'finished':
      return maxTries > 1 || killedByPool ? 'rerun' : 'lost';
    case 'running':
      return tries < maxTries ? 'retry' : 'crashed';
  }
}

/** Whether a verdict gives back the try the job was sent with. */
export function refundsTry(verdict: Verdict): boolean {
  return verdict === 'requeue' || verdict === 'rerun';
}

/** Whether a verdict puts the job back in the queue. */
export function runsAgain(verdict: Verdict): boolean {
  return verdict === 'requeue' || verdict === 'rerun' || verdict === 'retry';
}

/** Whether a job that overran its timeout runs again: while it has tries left. */
export function retriesAfterTimeout(tries: number, maxTries: number): boolean {
  return tries < maxTries;
}

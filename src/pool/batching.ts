/**
 * How many jobs a thread may hold at once: the jobs it runs, plus a prefetch sized
 * from how long jobs take, so that a thread never idles waiting for its next message
 * while a batch of slow jobs is never stacked behind one another on one thread.
 */
import type { ResolvedOptions } from './options.js';

/** A thread should hold about this much work (ms) beyond what it is running. */
const PREFETCH_MS = 2;
/**
 * Upper bound of jobs held per thread, however small they are. It also bounds how far
 * one key can run ahead of another that arrives later (the fairness ring orders the
 * queue, not what threads already hold).
 */
const MAX_PREFETCH = 256;

/** Jobs the pool may still send to a thread holding `load` jobs. `jobMs` is the moving average run time. */
export function batchRoom(
  options: ResolvedOptions,
  jobMs: number | undefined,
  load: number,
): number {
  const prefetch =
    jobMs === undefined
      ? 1
      : Math.min(MAX_PREFETCH, Math.max(1, Math.floor(PREFETCH_MS / Math.max(jobMs, 1e-6))));
  return options.concurrency + prefetch - load;
}

/**
 * A thread's `recycle` limits (see `PoolSettings.recycle`), checked in the thread itself so
 * that it stops at once: the jobs it has started, and its used heap after a job, read at
 * most once per {@link HEAP_EVERY_MS} of work so that tiny jobs do not pay for it (a
 * reading costs a few microseconds).
 */
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/** The heap is read after a job once this many ms have passed since the last reading. */
const HEAP_EVERY_MS = 1;

/** Which limit a thread is past. */
export type RecycleReason = 'jobs' | 'heap';

export class RecycleWatch {
  readonly #afterJobs: number;
  readonly #heapAbove: number;
  /** Jobs started so far (a chunk counts as its inputs). */
  #started = 0;
  /** `performance.now()` at the last heap reading. */
  #lastRead = -Infinity;

  constructor(limits: { afterJobs: number; heapAbove: number }) {
    this.#afterJobs = limits.afterJobs;
    this.#heapAbove = limits.heapAbove;
  }

  /**
   * Whether a job of `count` inputs would take the thread past `afterJobs` (a chunk
   * larger than the limit still runs, alone, on a fresh thread).
   */
  wouldPass(count: number): boolean {
    return this.#started > 0 && this.#started + count > this.#afterJobs;
  }

  /** `count` jobs' inputs started: whether the thread is now at `afterJobs`. */
  started(count: number): RecycleReason | undefined {
    this.#started += count;
    return this.#started >= this.#afterJobs ? 'jobs' : undefined;
  }

  /** A job finished: whether the thread's heap is past `heapAbove` (read if due). */
  finished(): RecycleReason | undefined {
    if (this.#heapAbove === Infinity) return undefined;
    const now = performance.now();
    if (now - this.#lastRead < HEAP_EVERY_MS) return undefined;
    this.#lastRead = now;
    return heapUsed() > this.#heapAbove ? 'heap' : undefined;
  }
}

/** The thread's used V8 heap, in bytes. */
export function heapUsed(): number {
  return getHeapStatistics().used_heap_size;
}

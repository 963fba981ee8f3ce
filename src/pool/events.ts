/** The events a pool emits. */

/** Events the pool emits, with their arguments. */
export interface PoolEvents {
  /** A thread loaded the module and ran `init()`. */
  threadStart: [info: { threadId: number }];
  /** A thread exited (after a crash too). */
  threadExit: [info: { threadId: number }];
  /**
   * A thread passed a `recycle` limit (`reason`: `'jobs'` for `afterJobs`, `'heap'` for
   * `heapAbove`, with its used heap in bytes): it finishes the jobs it runs, runs
   * `cleanup()` and exits (`threadExit`), and a new thread takes its place. Not a crash.
   *
   * @example
   * ```ts
   * pool.on('threadRecycle', ({ threadId, reason, heap }) => log.info({ threadId, reason, heap }));
   * ```
   */
  threadRecycle: [info: { threadId: number; reason: 'jobs' | 'heap'; heap: number }];
  /**
   * A thread died without being asked to; its jobs were retried or rejected. `error` is
   * what killed it (an uncaught error, Node's out-of-memory error, the pool's reason for
   * terminating it), or a `WorkerCrashedError` for an exit code or a thrown non-Error
   * (then `cause` holds what was thrown).
   */
  threadCrash: [info: { threadId: number; error: Error }];
  /**
   * The module's `cleanup()` threw (or rejected) as a thread was retired or the pool shut
   * down. The thread exits all the same; `error` is what `cleanup()` threw.
   *
   * @example
   * ```ts
   * pool.on('cleanupError', ({ threadId, error }) => log.warn({ threadId, error }));
   * ```
   */
  cleanupError: [info: { threadId: number; error: unknown }];
  /** The queue emptied and no job is running. */
  drain: [];
  /** A sticky broadcast failed on a thread started after it (the thread goes on taking jobs). */
  broadcastFailed: [info: { threadId: number; task: string; error: unknown }];
}

export type Emit = <K extends keyof PoolEvents>(event: K, ...args: PoolEvents[K]) => void;

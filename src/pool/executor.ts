/**
 * What a local `Pool` and a cluster's `RemotePool` (from `corral/nats`) have in common:
 * code written against {@link Executor} runs on either by changing the constructor.
 *
 * Types only: this module has no runtime part, so the core never loads NATS through it.
 *
 * @module
 */
import type { JobOptions } from './job.js';
import type { Outcome, StreamOptions } from './stream.js';

/**
 * The options of one job that both executors take. `RemotePool` takes exactly these;
 * `Pool` takes more (`transfer`, `onProgress`, `queueFull`, `dedupe`).
 */
export type ExecutorJobOptions = Pick<
  JobOptions,
  'task' | 'signal' | 'timeout' | 'maxTries' | 'key'
>;

/** The options of `execute` and `wrap` that both executors take (`Pool` also takes `transfer`). */
export type ExecutorStreamOptions<I = unknown> = Pick<
  StreamOptions<I>,
  'task' | 'signal' | 'timeout' | 'maxTries' | 'key' | 'ordered' | 'window'
>;

/** The counters every executor's `stats()` has; each adds its own. */
export interface ExecutorStats {
  /** Jobs accepted and not yet sent to where they run (the local queue, or the client's outbox). */
  queued: number;
  /** Jobs sent (to a thread, or to the queue's stream) and not yet settled. */
  running: number;
  /** Jobs that resolved. */
  completed: number;
  /** Jobs that rejected (aborted ones included). */
  failed: number;
  /** Attempts started again after a crash, a timeout, a lost host or a `retryable()` error. */
  retried: number;
}

/**
 * Runs jobs of a task module and reports them with the same outcomes and error codes,
 * whether the threads are local (`Pool`) or on hosts reached through a queue (`RemotePool`).
 *
 * @example
 * ```ts
 * import type { Executor } from 'corral';
 * async function hashAll(pool: Executor, files: string[]): Promise<number> {
 *   let failed = 0;
 *   for await (const o of pool.execute(files, { task: 'sha256' })) if (!o.ok) failed++;
 *   return failed;
 * }
 * await hashAll(new Pool({ module: './hash.js' }), files);
 * await hashAll(new RemotePool(nc, 'hashing'), files);
 * ```
 */
export interface Executor<S extends ExecutorStats = ExecutorStats> {
  /** Runs one job; resolves with the task's result or rejects with a typed error. */
  do<R = unknown>(input: unknown, options?: ExecutorJobOptions): Promise<R>;
  /** Runs a batch; yields each outcome (in completion order, or input order with `ordered`). */
  execute<I = unknown, R = unknown>(
    inputs: Iterable<I>,
    options?: ExecutorStreamOptions<I>,
  ): AsyncIterableIterator<Outcome<I, R>>;
  /** Runs a stream with at most `window` inputs taken and not yet yielded. */
  wrap<I = unknown, R = unknown>(
    source: AsyncIterable<I> | Iterable<I>,
    options?: ExecutorStreamOptions<I>,
  ): AsyncIterableIterator<Outcome<I, R>>;
  /** Stops taking jobs; graceful (jobs finish) unless `force`. Idempotent. */
  shutdown(options?: { force?: boolean }): Promise<void>;
  /** Counters of the executor. */
  stats(): S;
}

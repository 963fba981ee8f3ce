/**
 * `Pool`: the public facade. It checks arguments and hands everything to the engine.
 */
import { EventEmitter } from 'node:events';
import { Engine, type PoolEvents } from './engine.js';
import { Job, checkJobOptions, type JobOptions } from './job.js';
import type { PoolState } from './lifecycle.js';
import { checkInteger, resolveOptions, type PoolOptions, type ResolvedOptions } from './options.js';
import { readBusy, readCounters, type PoolCounters, type PoolStats } from './stats.js';
import { checkTarget } from '../keyed/key-table.js';
import type { KeyCounts } from '../keyed/keyed.js';
import type { Lease } from '../keyed/leases.js';
import { Coalescer } from './coalesce.js';
import { InvalidOptionError } from '../util/errors.js';
import {
  makeProxy,
  type DefaultTask,
  type PoolProxy,
  type TaskInput,
  type TaskJobOptions,
  type TaskName,
  type TaskResult,
  type Untyped,
} from './proxy.js';
import {
  OutcomeStream,
  type Outcome,
  type StreamOptions,
  type TaskStreamOptions,
} from './stream.js';
import type { Executor } from './executor.js';
import type { BroadcastOptions, BroadcastOutcome } from './broadcast.js';
import { observeTally, type JobRecord, type JobTallyListener } from '../observe/job-record.js';
import { checkFunction } from '../util/validate.js';
import { Batch, runBatch, type BatchListener, type BatchSpec } from './batch.js';

/** Options for {@link Pool.shutdown}. */
export interface ShutdownOptions {
  /** Reject queued and running jobs with `ERR_POOL_CLOSED` and terminate the threads at once. @default false */
  force?: boolean;
}

/**
 * A pool of worker threads running the tasks of one module.
 *
 * `M`, the module's type (`typeof import('./worker.js')`), is optional: given, `do`,
 * `execute`, `wrap` and `proxy` check each task's name, input and result against it; left
 * out, they take any input and return what their type argument says, `unknown` by default.
 *
 * @example
 * ```ts
 * import { Pool } from 'corral';
 * await using pool = new Pool<typeof import('./hash-worker.js')>({
 *   module: new URL('./hash-worker.js', import.meta.url),
 *   threads: 4,
 * });
 * const digest = await pool.do(buf, { task: 'sha256' }); // typed by sha256's return
 * for await (const o of pool.execute(inputs, { task: 'sha256' })) {
 *   if (o.ok) console.log(o.index, o.value); else console.error(o.index, o.error);
 * }
 * ```
 */
export class Pool<M = unknown>
  extends EventEmitter<PoolEvents>
  implements Executor<PoolStats>, AsyncDisposable
{
  readonly #options: ResolvedOptions;
  readonly #engine: Engine;
  /** Executions shared by jobs with the same `dedupe` id. */
  readonly #coalescer = new Coalescer();

  /** Starts the threads. Throws `ERR_INVALID_OPTION` or `ERR_MODULE_NOT_FOUND` at once. */
  constructor(options: PoolOptions) {
    super();
    this.#options = resolveOptions(options);
    this.#engine = new Engine(this.#options, (event, ...args) => {
      (this.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args);
    });
  }

  /** `starting`, `running`, `closing`, `closed` or `failed`. */
  get state(): PoolState {
    return this.#engine.state;
  }

  /** Resolves once every thread has started; rejects with the reason if the pool failed. */
  ready(): Promise<void> {
    return this.#engine.ready();
  }

  /**
   * The task module's tasks (its exported functions but `init` and `cleanup`), once a
   * thread has loaded it. Rejects like {@link Pool.ready} if the module cannot run.
   */
  async tasks(): Promise<string[]> {
    for (;;) {
      const tasks = this.#engine.tasks();
      if (tasks !== undefined) return tasks;
      await this.#engine.ready();
    }
  }

  /**
   * Runs one job and resolves with the task's result, or rejects with a typed error
   * (`ERR_UNKNOWN_TASK`, `ERR_JOB_TIMEOUT`, `ERR_WORKER_CRASHED`, `ERR_POOL_CLOSED`,
   * `ERR_QUEUE_FULL`, `ERR_DATA_CLONE`, an `AbortError`, or what the task threw).
   *
   * On a typed pool (`Pool<M>`), `task` must be one of the module's tasks (`'default'`
   * when left out), `input` must fit the task's first parameter, and the result has the
   * type of what the task returns. On an untyped pool, the type argument says the result's
   * type.
   *
   * @example
   * ```ts
   * const n = await pool.do<number>(30, { task: 'fib', timeout: 5_000 }); // untyped
   * const m = await typed.do(30, { task: 'fib' }); // Pool<typeof import('./math.js')>: number
   * ```
   */
  do<R = unknown>(input: Untyped<M, unknown>, options?: JobOptions): Promise<R>;
  do<K extends TaskName<M> = DefaultTask<M>>(
    input: TaskInput<M, K>,
    options?: TaskJobOptions<M, K>,
  ): Promise<TaskResult<M, K>>;
  do(input: unknown, options?: JobOptions): Promise<unknown> {
    return this.#do(input, options);
  }

  #do(input: unknown, options: JobOptions | undefined): Promise<unknown> {
    let job: Job;
    try {
      const checked = checkJobOptions(options);
      if (checked.dedupe !== undefined) {
        const { dedupe, signal, ...rest } = checked;
        return this.#coalescer.run(
          dedupe,
          (shared) => this.#do(input, { ...rest, signal: shared }),
          signal,
        );
      }
      job = new Job(this.#engine.nextId(), input, checked, this.#options);
    } catch (error) {
      // checkJobOptions throws only CorralErrors.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
    const promise = job.promise();
    this.#engine.submit(job);
    return promise;
  }

  /**
   * Runs a batch. Yields each outcome, in completion order (input order with
   * `ordered: true`), and ends when all are done. Inputs become jobs as the pool has room
   * (at most `window`, default `threads × 2048`, taken and not yet yielded), so a large
   * batch does not hold a job object per input at once.
   *
   * Typed like {@link Pool.do}: on a `Pool<M>`, the inputs and each outcome's `value` have
   * the task's types.
   *
   * @example
   * ```ts
   * for await (const o of pool.execute(files, { task: 'hash' })) if (!o.ok) failed.push(o.input);
   * ```
   */
  execute<I = unknown, R = unknown>(
    inputs: Untyped<M, Iterable<I>>,
    options?: StreamOptions<I>,
  ): AsyncIterableIterator<Outcome<I, R>>;
  execute<K extends TaskName<M> = DefaultTask<M>>(
    inputs: Iterable<TaskInput<M, K>>,
    options?: TaskStreamOptions<M, K>,
  ): AsyncIterableIterator<Outcome<TaskInput<M, K>, TaskResult<M, K>>>;
  execute(inputs: Iterable<unknown>, options?: StreamOptions): AsyncIterableIterator<Outcome> {
    return new OutcomeStream(this.#engine, inputs, options, false);
  }

  /**
   * Runs a stream: takes inputs from `source` only as fast as the pool works (at most
   * `window` taken and not yet yielded), so an endless source runs in bounded memory.
   * Breaking out of the loop stops pulling, drops queued jobs and waits for running ones.
   * A source that throws ends the output with that error after in-flight jobs settle.
   *
   * Typed like {@link Pool.do}: on a `Pool<M>`, the source's items and each outcome's
   * `value` have the task's types.
   *
   * @example
   * ```ts
   * for await (const o of pool.wrap(readLines(file), { task: 'parse' })) write(o);
   * ```
   */
  wrap<I = unknown, R = unknown>(
    source: Untyped<M, AsyncIterable<I> | Iterable<I>>,
    options?: StreamOptions<I>,
  ): AsyncIterableIterator<Outcome<I, R>>;
  wrap<K extends TaskName<M> = DefaultTask<M>>(
    source: AsyncIterable<TaskInput<M, K>> | Iterable<TaskInput<M, K>>,
    options?: TaskStreamOptions<M, K>,
  ): AsyncIterableIterator<Outcome<TaskInput<M, K>, TaskResult<M, K>>>;
  wrap(
    source: AsyncIterable<unknown> | Iterable<unknown>,
    options?: StreamOptions,
  ): AsyncIterableIterator<Outcome> {
    return new OutcomeStream(this.#engine, source, options, true);
  }

  /**
   * Sets or changes a key's target: at most `target` jobs of the key run (and leases
   * are held) at once. Raising it starts waiting work at once; lowering it below the
   * active count revokes nothing, and nothing more of the key starts until it is under
   * the target; 0 pauses the key. `Infinity` removes the limit.
   *
   * @example
   * ```ts
   * pool.setTarget('tenant-a', 2);
   * await pool.do(job, { key: 'tenant-a' });
   * ```
   */
  setTarget(key: string, target: number): void {
    this.#engine.setTarget(key, checkTarget(target));
  }

  /** A key's target, active count (jobs running and leases held), queued jobs and waiting acquirers. */
  counts(key: string): KeyCounts {
    return this.#engine.counts(key);
  }

  /**
   * Takes a lease on a key, counted against the same target as keyed jobs and leases
   * taken inside tasks. Waits while the key is at its target; rejects with an
   * `AbortError` on abort and `ERR_POOL_CLOSED` on shutdown.
   *
   * @example
   * ```ts
   * await using lease = await pool.acquire('db', { signal });
   * ```
   */
  acquire(key: string, options?: { signal?: AbortSignal }): Promise<Lease> {
    try {
      return this.#engine.acquire(key, checkSignalOption(options));
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }

  /**
   * A typed proxy of the task module: each method is a task, each call a pool job. The
   * module's type defaults to the pool's.
   *
   * @example
   * ```ts
   * const math = pool.proxy<typeof import('./math-worker.js')>();
   * const n: number = await math.fib(30, { timeout: 1_000 });
   * ```
   */
  proxy<P = M>(): PoolProxy<P> {
    return makeProxy<P>((task, input, options) => this.#do(input, { ...options, task }));
  }

  /**
   * Runs a task once on every live thread (to reload a config, warm a cache, change a
   * setting) and resolves with one outcome per thread. Each thread runs it after the jobs it
   * already holds have started and before any job sent after it. With `sticky: true`,
   * threads started later (after a crash, a resize) run the latest sticky broadcast of that
   * task before their first job. Rejects with `ERR_UNKNOWN_TASK`, `ERR_POOL_CLOSED` or
   * `ERR_DATA_CLONE`; a thread that dies first gives its outcome `ERR_WORKER_CRASHED`.
   *
   * @example
   * ```ts
   * const outcomes = await pool.broadcast({ level: 'debug' }, { task: 'setLogLevel', sticky: true });
   * for (const o of outcomes) if (!o.ok) console.error(o.threadId, o.error);
   * ```
   */
  broadcast<R = unknown>(
    input: unknown,
    options?: BroadcastOptions,
  ): Promise<BroadcastOutcome<R>[]> {
    return this.#engine.broadcasts.run(input, options) as Promise<BroadcastOutcome<R>[]>;
  }

  /**
   * Changes the number of threads. Extra threads finish their jobs, run `cleanup()` and exit.
   * On an elastic pool it pins the count: `minThreads` = `maxThreads` = `threads` from now on.
   */
  resize(threads: number): void {
    this.#engine.resize(checkInteger('threads', threads, 1));
  }

  /** Counters and latency percentiles. */
  stats(): PoolStats {
    return this.#engine.snapshot();
  }

  /**
   * Calls `listener` with a {@link JobRecord} for every job that settles from now on (each
   * input of a stream's chunk on its own), synchronously as it settles: keep it cheap. A
   * listener that throws does not disturb the pool (its error is rethrown in a microtask).
   * Returns a function that removes the listener. An unobserved pool makes no records.
   *
   * @example
   * ```ts
   * const stop = pool.observe((r) => {
   *   if (!r.ok) log.warn({ task: r.task, code: r.error?.code }, r.error?.message);
   * });
   * // ...
   * stop();
   * ```
   */
  observe(listener: (record: JobRecord) => void): () => void {
    return this.#engine.observe(checkFunction('listener', listener));
  }
  /**
   * Internal: adds a listener that counts settled jobs, one call per job message (a chunk as
   * its inputs), for corral's metrics. Not part of the public API.
   * @internal
   */
  [observeTally](listener: JobTallyListener): () => void {
    return this.#engine.observeTally(listener);
  }

  /**
   * Internal: the lifetime busy time and settled jobs, cheaply (a queue host reads them per
   * job message). Not part of the public API.
   * @internal
   */
  [readBusy](): { busyTime: number; jobs: number } {
    return this.#engine.stats.busy();
  }

  /**
   * Internal: the counters of {@link Pool.stats} without its percentiles (a queue host's
   * dashboard snapshot reads them once a second). Not part of the public API.
   * @internal
   */
  [readCounters](): PoolCounters {
    return this.#engine.counters();
  }

  /**
   * Internal: runs `inputs` as jobs whose outcomes go to `listener` (see {@link Batch}), for
   * a queue host's hand-over of a message's jobs. Not part of the public API.
   * @internal
   */
  [runBatch](inputs: readonly unknown[], spec: BatchSpec, listener: BatchListener): Batch {
    return new Batch(this.#engine, inputs, spec, listener);
  }

  /**
   * Stops the pool. Graceful by default: no new jobs (they reject with `ERR_POOL_CLOSED`),
   * queued and running jobs finish, each thread runs `cleanup()`, threads exit. With
   * `force`, queued and running jobs reject with `ERR_POOL_CLOSED` and threads are
   * terminated. Idempotent; resolves when every thread has exited.
   */
  shutdown(options?: ShutdownOptions): Promise<void> {
    let force: boolean;
    try {
      force = checkForce(options);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
    return this.#engine.shutdown(force);
  }

  /** `await using pool = new Pool(...)` shuts the pool down gracefully at scope exit. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

/** `acquire`'s options: an object whose `signal`, if any, is an AbortSignal. */
function checkSignalOption(options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  const signal = (options as { signal?: unknown }).signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidOptionError('signal', 'an AbortSignal', signal);
  }
  return signal;
}

/** `shutdown`'s options: an object whose `force`, if any, is a boolean. */
function checkForce(options: unknown): boolean {
  if (options === undefined) return false;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  const force = (options as { force?: unknown }).force;
  if (force !== undefined && typeof force !== 'boolean') {
    throw new InvalidOptionError('force', 'a boolean', force);
  }
  return force === true;
}

/**
 * `Pool`: the public facade. It checks arguments and hands everything to the engine.
 */
import { EventEmitter } from 'node:events';
import { Engine, type PoolEvents } from './engine.js';
import { Job, checkJobOptions, type JobOptions } from './job.js';
import type { PoolState } from './lifecycle.js';
import { checkInteger, resolveOptions, type PoolOptions, type ResolvedOptions } from './options.js';
import type { PoolStats } from './stats.js';
import { checkTarget } from '../keyed/key-table.js';
import type { KeyCounts } from '../keyed/keyed.js';
import type { Lease } from '../keyed/leases.js';
import { Coalescer } from './coalesce.js';
import { InvalidOptionError } from '../util/errors.js';
import { makeProxy, type PoolProxy } from './proxy.js';
import { OutcomeStream, type Outcome, type StreamOptions } from './stream.js';
import type { BroadcastOptions, BroadcastOutcome } from './broadcast.js';

/** Options for {@link Pool.shutdown}. */
export interface ShutdownOptions {
  /** Reject queued and running jobs with `ERR_POOL_CLOSED` and terminate the threads at once. @default false */
  force?: boolean;
}

/**
 * A pool of worker threads running the tasks of one module.
 *
 * @example
 * ```ts
 * import { Pool } from 'corral';
 * await using pool = new Pool({ module: new URL('./hash-worker.js', import.meta.url), threads: 4 });
 * const digest = await pool.do(buf, { task: 'sha256' });
 * for await (const o of pool.execute(inputs, { task: 'sha256' })) {
 *   if (o.ok) console.log(o.index, o.value); else console.error(o.index, o.error);
 * }
 * ```
 */
export class Pool extends EventEmitter<PoolEvents> implements AsyncDisposable {
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
   * @example
   * ```ts
   * const n = await pool.do<number>(30, { task: 'fib', timeout: 5_000 });
   * ```
   */
  do<R = unknown>(input: unknown, options?: JobOptions): Promise<R> {
    let job: Job;
    try {
      const checked = checkJobOptions(options);
      if (checked.dedupe !== undefined) {
        const { dedupe, signal, ...rest } = checked;
        return this.#coalescer.run(
          dedupe,
          (shared) => this.do(input, { ...rest, signal: shared }),
          signal,
        ) as Promise<R>;
      }
      job = new Job(this.#engine.nextId(), input, checked, this.#options);
    } catch (error) {
      // checkJobOptions throws only CorralErrors.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
    const promise = job.promise() as Promise<R>;
    this.#engine.submit(job);
    return promise;
  }

  /**
   * Runs a batch. Yields each outcome, in completion order (input order with
   * `ordered: true`), and ends when all are done. Inputs become jobs as the pool has room
   * (at most `window`, default `threads × 2048`, taken and not yet yielded), so a large
   * batch does not hold a job object per input at once.
   *
   * @example
   * ```ts
   * for await (const o of pool.execute(files, { task: 'hash' })) if (!o.ok) failed.push(o.input);
   * ```
   */
  execute<I = unknown, R = unknown>(
    inputs: Iterable<I>,
    options?: StreamOptions<I>,
  ): AsyncIterableIterator<Outcome<I, R>> {
    return new OutcomeStream<I, R>(this.#engine, this.#options, inputs, options, false);
  }

  /**
   * Runs a stream: takes inputs from `source` only as fast as the pool works (at most
   * `window` taken and not yet yielded), so an endless source runs in bounded memory.
   * Breaking out of the loop stops pulling, drops queued jobs and waits for running ones.
   * A source that throws ends the output with that error after in-flight jobs settle.
   *
   * @example
   * ```ts
   * for await (const o of pool.wrap(readLines(file), { task: 'parse' })) write(o);
   * ```
   */
  wrap<I = unknown, R = unknown>(
    source: AsyncIterable<I> | Iterable<I>,
    options?: StreamOptions<I>,
  ): AsyncIterableIterator<Outcome<I, R>> {
    return new OutcomeStream<I, R>(this.#engine, this.#options, source, options, true);
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
   * A typed proxy of the task module: each method is a task, each call a pool job.
   *
   * @example
   * ```ts
   * const math = pool.proxy<typeof import('./math-worker.js')>();
   * const n: number = await math.fib(30, { timeout: 1_000 });
   * ```
   */
  proxy<M>(): PoolProxy<M> {
    return makeProxy<M>((task, input, options) => this.do(input, { ...options, task }));
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

  /** Changes the number of threads. Extra threads finish their jobs, run `cleanup()` and exit. */
  resize(threads: number): void {
    this.#engine.resize(checkInteger('threads', threads, 1));
  }

  /** Counters and latency percentiles. */
  stats(): PoolStats {
    return this.#engine.snapshot();
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

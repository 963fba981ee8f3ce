/**
 * The stream adapter behind `execute` and `wrap`: inputs in, outcomes out, with at
 * most `window` inputs taken from the source and not yet handed to the consumer.
 * `execute` is the same over an in-memory batch, with a larger window.
 *
 * What is common with the remote pool's stream lives in {@link StreamCore}; here, how an
 * input runs on the local threads, and what leaving early does to running jobs (waits).
 */
import type { Transferable } from 'node:worker_threads';
import type { Engine } from './engine.js';
import { InvalidOptionError, type AbortError } from '../util/errors.js';
import { Job, checkJobOptions, type JobOptions, type JobOwner } from './job.js';
import type { ResolvedOptions } from './options.js';
import { checkKey } from '../keyed/key-table.js';
import type { TaskInput, TaskName } from './proxy.js';
import { StreamCore } from './stream-core.js';

export type { Outcome } from './stream-core.js';

/** Options for `execute` and `wrap`. */
export interface StreamOptions<I = unknown> extends Omit<
  JobOptions,
  'transfer' | 'onProgress' | 'queueFull' | 'key'
> {
  /** Each input's key (see `pool.setTarget`), or undefined for none. */
  key?: (input: I, index: number) => string | undefined;
  /** Yield outcomes in input order instead of completion order. @default false */
  ordered?: boolean;
  /**
   * Inputs taken from the source and not yet yielded, at most. Bounds memory; large
   * enough by default to keep every thread busy with small jobs.
   * @default threads * 512 for `wrap`, threads * 2048 for `execute`
   */
  window?: number;
  /** Objects to move (not copy) with each input. */
  transfer?: (input: I) => readonly Transferable[];
  /**
   * Called on the main thread with each value a job passes to `ctx.progress()`, and the
   * index of the job's input in the source (its outcome's `index`). Not called once the
   * consumer has stopped reading or the stream was aborted.
   */
  onProgress?: (index: number, value: unknown) => void;
}

/** Options for `execute` and `wrap` on a typed pool: `task`, if given, is one of the module's tasks. */
export type TaskStreamOptions<M, K extends TaskName<M>> = Omit<
  StreamOptions<TaskInput<M, K>>,
  'task'
> & { task?: K };

export class OutcomeStream<I, R> extends StreamCore<I, R> implements JobOwner {
  readonly #engine: Engine;
  readonly #pool: ResolvedOptions;
  readonly #jobOptions: JobOptions;
  readonly #transfer: ((input: I) => readonly Transferable[]) | undefined;
  readonly #onProgress: ((index: number, value: unknown) => void) | undefined;

  constructor(
    engine: Engine,
    pool: ResolvedOptions,
    source: Iterable<I> | AsyncIterable<I>,
    options: StreamOptions<I> | undefined,
    bounded: boolean,
  ) {
    const raw: unknown = options;
    if (raw !== undefined && (typeof raw !== 'object' || raw === null)) {
      throw new InvalidOptionError('options', 'an object', raw);
    }
    const { ordered, window, transfer, signal, key, onProgress, ...rest } = options ?? {};
    // The stream, not each job, listens to the signal: jobs carry no signal of their own.
    const jobOptions = checkJobOptions(rest);
    super(
      source,
      { ordered, window, signal, key },
      {
        sourceName: bounded ? 'source' : 'inputs',
        // execute takes its in-memory batch as the pool has room too: jobs that exist only
        // while needed keep the garbage collector's work small. Its window is just larger.
        window: pool.threads * (bounded ? 512 : 2048),
        checkKey,
        // Leaving the loop drops queued jobs but lets running ones finish (see `Pool.wrap`).
        waitOnReturn: true,
      },
    );
    this.#engine = engine;
    this.#pool = pool;
    this.#jobOptions = jobOptions;
    if (transfer !== undefined && typeof transfer !== 'function') {
      throw new InvalidOptionError('transfer', 'a function of the input', transfer);
    }
    this.#transfer = transfer;
    if (onProgress !== undefined && typeof onProgress !== 'function') {
      throw new InvalidOptionError(
        'onProgress',
        'a function of the index and the value',
        onProgress,
      );
    }
    this.#onProgress = onProgress;
    this.start();
  }

  settled(job: Job, ok: boolean, value: unknown): void {
    this.outcome(job.index, job.input as I, ok, value);
  }

  protected take(input: I, index: number, key: string | undefined): void {
    const transfer = this.#transfer === undefined ? {} : { transfer: this.#transfer(input) };
    const job = new Job(this.#engine.nextId(), input, this.#jobOptionsFor(index), this.#pool, {
      index,
      owner: this,
      ...transfer,
      key,
    });
    this.#engine.submit(job);
  }

  /**
   * Queued jobs go at once; running ones are aborted through their signal on an abort, but
   * left to finish on `return()`, as `Pool.wrap` promises (`break` waits for running jobs).
   */
  protected cancel(error: AbortError, running: boolean): void {
    this.#engine.cancelOwned(this, error.cause, !running);
  }

  /**
   * The shared job options, or with `onProgress`, a copy whose listener knows the input's
   * index: a job's listener gets only the value, and the engine's jobs stay unaware of streams.
   */
  #jobOptionsFor(index: number): JobOptions {
    const listener = this.#onProgress;
    if (listener === undefined) return this.#jobOptions;
    return {
      ...this.#jobOptions,
      onProgress: (value) => {
        // Progress of a job whose outcome the consumer will never see is not reported either.
        if (this.reading) listener(index, value);
      },
    };
  }
}

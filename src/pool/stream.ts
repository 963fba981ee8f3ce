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
import { Job, checkJobOptions, checkPriority, type JobOptions, type JobOwner } from './job.js';
import type { ResolvedOptions } from './options.js';
import { checkKey } from '../keyed/key-table.js';
import type { TaskInput, TaskName } from './proxy.js';
import { StreamCore } from './stream-core.js';
import { Fate, MAX_CHUNK, type Fates } from './chunk.js';

export type { Outcome } from './stream-core.js';

/** The job options `execute` and `wrap` take for every job, beside their own. */
const STREAM_JOB_OPTIONS: ReadonlySet<string> = new Set([
  'task',
  'timeout',
  'maxTries',
  'priority',
]);

/** Options for `execute` and `wrap`. */
export interface StreamOptions<I = unknown> extends Omit<
  JobOptions,
  'transfer' | 'onProgress' | 'queueFull' | 'key' | 'dedupe' | 'priority'
> {
  /**
   * The jobs' priority (higher starts first, see `JobOptions.priority`): one for every
   * input, or each input's. The stream's `window` still bounds what is taken from the
   * source; priority orders only what is queued.
   *
   * @example
   * ```ts
   * pool.wrap(requests, { priority: (req) => (req.user.paid ? 10 : 0) });
   * ```
   * @default 0
   */
  priority?: number | ((input: I, index: number) => number);
  /** Each input's key (see `pool.setTarget`), or undefined for none. */
  key?: (input: I, index: number) => string | undefined;
  /** Yield outcomes in input order instead of completion order. @default false */
  ordered?: boolean;
  /**
   * Inputs taken from the source and not yet yielded, at most. Bounds memory; large
   * enough by default to keep every thread busy with small jobs.
   * @default threads * 1024 for `wrap`, threads * 2048 for `execute`
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

/** A key's inputs held back to go as one chunk, and the size that chunk goes at. */
interface Held<I> {
  readonly inputs: I[];
  readonly indices: number[];
  readonly size: number;
}

export class OutcomeStream<I, R> extends StreamCore<I, R> implements JobOwner {
  readonly #engine: Engine;
  readonly #pool: ResolvedOptions;
  readonly #jobOptions: JobOptions;
  readonly #transfer: ((input: I) => readonly Transferable[]) | undefined;
  readonly #onProgress: ((index: number, value: unknown) => void) | undefined;
  /** Each input's priority, when given as a function. */
  readonly #priority: ((input: I, index: number) => number) | undefined;
  /** Whether inputs may travel in chunks: no per-job feature is used (see chunk.ts). */
  readonly #chunks: boolean;
  /** The task's name, for the chunk size. */
  readonly #task: string;
  /** Inputs held back to go as chunks, by key (a chunk's inputs share one). */
  readonly #held = new Map<string | undefined, Held<I>>();
  /** Inputs held back, all keys together. */
  #heldCount = 0;
  /** A send of the inputs held back is scheduled (an async source is slow to yield). */
  #flushing: NodeJS.Immediate | undefined;

  /** `bounded`: `wrap` (a window for a stream of unknown length), else `execute`. */
  constructor(
    engine: Engine,
    source: Iterable<I> | AsyncIterable<I>,
    options: StreamOptions<I> | undefined,
    bounded: boolean,
  ) {
    const pool = engine.options;
    const raw: unknown = options;
    if (raw !== undefined && (typeof raw !== 'object' || raw === null)) {
      throw new InvalidOptionError('options', 'an object', raw);
    }
    const { ordered, window, transfer, signal, key, onProgress, priority, ...rest } = options ?? {};
    // The stream, not each job, listens to the signal: jobs carry no signal of their own.
    const perInput = typeof priority === 'function';
    const jobOptions = checkJobOptions(perInput ? rest : { ...rest, priority }, STREAM_JOB_OPTIONS);
    super(
      source,
      { ordered, window, signal, key },
      {
        sourceName: bounded ? 'source' : 'inputs',
        // execute takes its in-memory batch as the pool has room too: jobs that exist only
        // while needed keep the garbage collector's work small. Its window is just larger.
        window: pool.threads * (bounded ? 1024 : 2048),
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
    this.#priority = perInput ? priority : undefined;
    this.#task = jobOptions.task ?? 'default';
    // A chunk of one key holds one of its key's units and runs its inputs one at a time: a
    // key's target still bounds its inputs running at once.
    this.#chunks =
      transfer === undefined &&
      onProgress === undefined &&
      !perInput && // a chunk's inputs share one priority
      (jobOptions.timeout ?? pool.timeout) === 0;
    this.start();
  }

  settled(job: Job, ok: boolean, value: unknown): void {
    if (!job.chunk) {
      this.outcome(job.index, job.input as I, ok, value);
      return;
    }
    // Each input of a chunk: its outcome, or it runs again as a job of its own.
    const inputs = job.input as I[];
    const fates = value as Fates;
    const indices = job.indices as readonly number[];
    for (let k = 0; k < inputs.length; k++) {
      const input = inputs[k] as I;
      const index = indices[k] as number;
      const fate = ok ? fates[2 * k] : Fate.Failed;
      const result = ok ? fates[2 * k + 1] : value;
      if (fate === Fate.Ok || fate === Fate.Failed) {
        this.outcome(index, input, fate === Fate.Ok, result, false);
      } else if (!this.reading) this.outcome(index, input, false, undefined, false);
      else this.#submit(input, index, job.key, result as number);
    }
    this.refill();
  }

  protected take(input: I, index: number, key: string | undefined): void {
    let held = this.#chunks ? this.#held.get(key) : undefined;
    if (held === undefined && this.#chunks) {
      // The size is looked up once per chunk, not per input.
      const size = this.#engine.chunkSize(this.#task);
      if (size > 1) {
        held = { inputs: [], indices: [], size };
        this.#held.set(key, held);
      }
    }
    if (held === undefined) {
      if (this.#priority !== undefined) {
        let priority: number;
        try {
          priority = checkPriority(this.#priority(input, index));
        } catch (error) {
          this.outcome(index, input, false, error); // this input's outcome, as for its key
          return;
        }
        this.#submit(input, index, key, 0, priority);
        return;
      }
      this.#submit(input, index, key, 0);
      return;
    }
    held.inputs.push(input);
    held.indices.push(index);
    this.#heldCount++;
    if (held.inputs.length >= held.size) this.#send(key, held);
  }

  protected override paused(why: 'waiting' | 'full' | 'done'): void {
    if (this.#heldCount === 0) return;
    if (why === 'waiting') {
      // An async source's next input may be a microtask away: wait for it until the event
      // loop turns, but no longer (a slow source's inputs go one by one).
      this.#flushing ??= setImmediate(() => {
        this.#flushing = undefined;
        this.#flush();
      });
      return;
    }
    // No room: while enough other inputs are in flight to keep the threads busy, chunks
    // wait to grow (room comes back as the consumer reads); otherwise they go now.
    if (why === 'done' || this.inFlight - this.#heldCount < 2 * MAX_CHUNK) this.#flush();
  }

  /** Sends every input held back. */
  #flush(): void {
    if (this.#flushing !== undefined) clearImmediate(this.#flushing);
    this.#flushing = undefined;
    for (const [key, held] of this.#held) this.#send(key, held);
  }

  /** Sends a key's inputs held back as one chunk (or as one job, if there is only one). */
  #send(key: string | undefined, held: Held<I>): void {
    this.#held.delete(key);
    this.#heldCount -= held.inputs.length;
    const { inputs, indices } = held;
    if (inputs.length === 1) {
      this.#submit(inputs[0] as I, indices[0] as number, key, 0);
      return;
    }
    this.#engine.submit(
      Job.chunk(this.#engine.nextId(), inputs, indices, this.#jobOptions, this.#pool, this, key),
    );
  }

  /** Submits one input as a job of its own, with `tries` already used. */
  #submit(
    input: I,
    index: number,
    key: string | undefined,
    tries: number,
    priority?: number,
  ): void {
    const transfer = this.#transfer === undefined ? {} : { transfer: this.#transfer(input) };
    const job = new Job(this.#engine.nextId(), input, this.#jobOptionsFor(index), this.#pool, {
      index,
      owner: this,
      ...transfer,
      key,
      tries,
      ...(priority === undefined ? {} : { priority }),
    });
    this.#engine.submit(job);
  }

  /**
   * Queued jobs go at once; running ones are aborted through their signal on an abort, but
   * left to finish on `return()`, as `Pool.wrap` promises (`break` waits for running jobs).
   */
  protected cancel(error: AbortError, running: boolean): void {
    this.#flush(); // inputs held back go, to be cancelled with the rest
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

/**
 * The stream adapter behind `execute` and `wrap`: inputs in, outcomes out, with at
 * most `window` inputs taken from the source and not yet handed to the consumer.
 * `execute` is the same over an in-memory batch, with a larger window.
 */
import type { Transferable } from 'node:worker_threads';
import { OutcomeBuffer } from './outcome-buffer.js';
import { SourcePuller } from './source-puller.js';
import type { Engine } from './engine.js';
import { AbortError, InvalidOptionError } from '../util/errors.js';
import { Job, checkJobOptions, type JobOptions, type JobOwner } from './job.js';
import { checkInteger, type ResolvedOptions } from './options.js';
import { checkKey } from '../keyed/key-table.js';
import { Fate, MAX_CHUNK, type Fates } from './chunk.js';
import type { TaskInput, TaskName } from './proxy.js';

/** One job's outcome in `execute`/`wrap`. `index` is the input's position in the source. */
export type Outcome<I = unknown, R = unknown> =
  | { index: number; input: I; ok: true; value: R }
  | { index: number; input: I; ok: false; error: unknown };

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

export class OutcomeStream<I, R> implements AsyncIterableIterator<Outcome<I, R>>, JobOwner {
  readonly #engine: Engine;
  readonly #pool: ResolvedOptions;
  readonly #jobOptions: JobOptions;
  readonly #transfer: ((input: I) => readonly Transferable[]) | undefined;
  readonly #key: ((input: I, index: number) => string | undefined) | undefined;
  readonly #onProgress: ((index: number, value: unknown) => void) | undefined;
  readonly #window: number;
  readonly #outcomes: OutcomeBuffer<Outcome<I, R>>;
  readonly #inputs: SourcePuller<I>;
  /** Inputs taken from the source so far. */
  #taken = 0;
  /** Jobs submitted and not settled. */
  #inFlight = 0;
  /** Outcomes are dropped: the stream was aborted. */
  #discard = false;
  /** #fill is on the stack. */
  /** An async pull is under way. */
  #sourceDone = false;
  /** What the output ends with, after in-flight jobs settle: the source's error or an abort. */
  #error: unknown;
  #failed = false;
  /** The consumer stopped (`return()`), or the output has ended. */
  #finished = false;
  /** Resolves `return()` once in-flight jobs have settled. */
  #onIdle: (() => void) | undefined;
  readonly #unlisten: (() => void) | undefined;
  /** Whether inputs may travel in chunks: no per-job feature is used (see chunk.ts). */
  readonly #chunks: boolean;
  /** Inputs held back to go as one chunk, and the index of the first. */
  #chunk: I[] | undefined;
  #chunkIndex = 0;
  /** A chunk's inputs are being settled: the source is pulled once, after all of them. */
  #settling = false;
  /** A flush of the held-back inputs is scheduled (an async source is slow to yield). */
  #flushing: NodeJS.Immediate | undefined;

  constructor(
    engine: Engine,
    pool: ResolvedOptions,
    source: Iterable<I> | AsyncIterable<I>,
    options: StreamOptions<I> | undefined,
    bounded: boolean,
  ) {
    this.#engine = engine;
    this.#pool = pool;
    const raw: unknown = options;
    if (raw !== undefined && (typeof raw !== 'object' || raw === null)) {
      throw new InvalidOptionError('options', 'an object', raw);
    }
    const { ordered, window, transfer, signal, key, onProgress, ...jobOptions } = options ?? {};
    // The stream, not each job, listens to the signal: jobs carry no signal of their own.
    this.#jobOptions = checkJobOptions(jobOptions);
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new InvalidOptionError('signal', 'an AbortSignal', signal);
    }
    if (transfer !== undefined && typeof transfer !== 'function') {
      throw new InvalidOptionError('transfer', 'a function of the input', transfer);
    }
    this.#transfer = transfer;
    if (key !== undefined && typeof key !== 'function') {
      throw new InvalidOptionError('key', 'a function of the input and its index', key);
    }
    this.#key = key;
    if (onProgress !== undefined && typeof onProgress !== 'function') {
      throw new InvalidOptionError(
        'onProgress',
        'a function of the index and the value',
        onProgress,
      );
    }
    this.#onProgress = onProgress;
    this.#chunks =
      key === undefined &&
      transfer === undefined &&
      onProgress === undefined &&
      (this.#jobOptions.timeout ?? pool.timeout) === 0;
    this.#outcomes = new OutcomeBuffer(ordered === true);
    // execute takes its in-memory batch as the pool has room too: jobs that exist only
    // while needed keep the garbage collector's work small. Its window is just larger.
    this.#window = checkInteger('window', window ?? pool.threads * (bounded ? 512 : 2048), 1);
    // A primitive (null, a number) has no iterator to look up: checked here, not left to a TypeError.
    const iterable = source as Partial<Iterable<I> & AsyncIterable<I>> | null | undefined;
    if (typeof iterable?.[Symbol.asyncIterator] === 'function') {
      this.#inputs = this.#puller((source as AsyncIterable<I>)[Symbol.asyncIterator](), false);
    } else if (typeof iterable?.[Symbol.iterator] === 'function') {
      this.#inputs = this.#puller((source as Iterable<I>)[Symbol.iterator](), true);
    } else {
      const name = bounded ? 'source' : 'inputs';
      throw new InvalidOptionError(name, 'an iterable or async iterable', source);
    }
    if (signal !== undefined) {
      const onAbort = (): void => {
        this.#stop(new AbortError(signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#unlisten = () => {
        signal.removeEventListener('abort', onAbort);
      };
      if (signal.aborted) onAbort();
    }
    this.#inputs.fill();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Outcome<I, R>>> {
    const outcome = this.#outcomes.shift();
    if (outcome !== undefined) {
      this.#inputs.fill();
      return Promise.resolve({ value: outcome, done: false });
    }
    if (this.#finished || (this.#sourceDone && this.#inFlight === 0)) return this.#end();
    return this.#outcomes.wait();
  }

  /** The consumer stopped early: stop pulling, drop queued jobs, let running ones settle. */
  async return(): Promise<IteratorResult<Outcome<I, R>>> {
    this.#finished = true;
    this.#unlisten?.();
    this.#outcomes.clear();
    this.#dropChunk();
    this.#engine.cancelOwned(this, 'the consumer stopped reading', true);
    const closing = this.#inputs.close();
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#onIdle = resolve));
    await closing;
    return { value: undefined, done: true };
  }

  settled(job: Job, ok: boolean, value: unknown): void {
    if (job.chunk) {
      this.#settledChunk(job, ok, value);
      return;
    }
    this.#inFlight--;
    if (this.#discard) {
      this.#wakeIfDone();
      return;
    }
    if (this.#finished) {
      if (this.#inFlight === 0) this.#onIdle?.();
      return;
    }
    const input = job.input as I;
    const outcome: Outcome<I, R> = ok
      ? { index: job.index, input, ok: true, value: value as R }
      : { index: job.index, input, ok: false, error: value };
    this.#outcomes.add(outcome);
    this.#wakeIfDone();
    this.#inputs.fill();
  }

  /** Each input of a chunk: its outcome, or it runs again on its own. */
  #settledChunk(job: Job, ok: boolean, value: unknown): void {
    this.#settling = true;
    try {
      this.#settleEach(job, ok, value);
    } finally {
      this.#settling = false;
    }
    this.#inputs.fill();
  }

  #settleEach(job: Job, ok: boolean, value: unknown): void {
    const inputs = job.input as I[];
    const fates = value as Fates;
    for (let k = 0; k < inputs.length; k++) {
      const input = inputs[k] as I;
      const index = job.index + k;
      if (!ok) this.#settledInput(index, input, false, value);
      else {
        const fate = fates[2 * k];
        if (fate === Fate.Ok) this.#settledInput(index, input, true, fates[2 * k + 1]);
        else if (fate === Fate.Failed) this.#settledInput(index, input, false, fates[2 * k + 1]);
        else if (this.#discard || this.#finished) this.#settledInput(index, input, false, undefined);
        else this.#submitOne(input, index, fates[2 * k + 1] as number);
      }
    }
  }

  #settledInput(index: number, input: I, ok: boolean, value: unknown): void {
    this.#inFlight--;
    if (this.#discard) {
      this.#wakeIfDone();
      return;
    }
    if (this.#finished) {
      if (this.#inFlight === 0) this.#onIdle?.();
      return;
    }
    const outcome: Outcome<I, R> = ok
      ? { index, input, ok: true, value: value as R }
      : { index, input, ok: false, error: value };
    this.#outcomes.add(outcome);
    this.#wakeIfDone();
    if (!this.#settling) this.#inputs.fill();
  }

  /** Sends the inputs held back as one chunk (or one job, if only one). */
  #flushChunk(): void {
    if (this.#flushing !== undefined) {
      clearImmediate(this.#flushing);
      this.#flushing = undefined;
    }
    const chunk = this.#chunk;
    if (chunk === undefined) return;
    this.#chunk = undefined;
    if (chunk.length === 1) {
      this.#submitOne(chunk[0] as I, this.#chunkIndex, 0);
      return;
    }
    const job = new Job(this.#engine.nextId(), chunk, this.#jobOptions, this.#pool, {
      index: this.#chunkIndex,
      owner: this,
      chunk: true,
    });
    this.#engine.submit(job);
  }

  /** Drops the inputs held back (the stream was left or aborted). */
  #dropChunk(): void {
    if (this.#flushing !== undefined) clearImmediate(this.#flushing);
    this.#flushing = undefined;
    this.#inFlight -= this.#chunk?.length ?? 0;
    this.#chunk = undefined;
  }

  /** Ends the output: with the pending error once, then done. */
  #end(): Promise<IteratorResult<Outcome<I, R>>> {
    this.#finished = true;
    this.#unlisten?.();
    if (this.#failed) {
      this.#failed = false;
      // Whatever the source threw is passed on as it is, Error or not.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(this.#error);
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Stops taking inputs; the output ends with `error` after in-flight jobs settle. */
  #stop(error: unknown): void {
    if (this.#finished || this.#failed) return;
    this.#failed = true;
    this.#error = error;
    this.#sourceDone = true;
    void this.#inputs.close();
    if (error instanceof AbortError) {
      this.#dropChunk();
      this.#outcomes.clear();
      this.#discard = true; // the jobs cancelled now yield nothing: the output ends with the abort
      this.#engine.cancelOwned(this, error.cause, false);
    }
    this.#wakeIfDone();
  }

  #wakeIfDone(): void {
    if (!this.#outcomes.waiting || !this.#sourceDone) return;
    if (this.#inFlight > 0 || this.#outcomes.ready > 0) return;
    this.#outcomes.end(this.#end());
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
        if (!this.#finished && !this.#discard) listener(index, value);
      },
    };
  }

  #puller(source: Iterator<I> | AsyncIterator<I>, sync: boolean): SourcePuller<I> {
    return new SourcePuller(source, sync, {
      room: () => !this.#sourceDone && !this.#finished && this.#held() < this.#window,
      take: (r) => {
        this.#take(r);
      },
      stop: (error) => {
        this.#stop(error);
      },
      paused: (waiting) => {
        const chunk = this.#chunk;
        if (chunk === undefined) return;
        if (waiting) {
          // An async source's next input may be a microtask away: wait for it until the
          // event loop turns, but no longer (a slow source's inputs go one by one).
          this.#flushing ??= setImmediate(() => {
            this.#flushing = undefined;
            this.#flushChunk();
          });
          return;
        }
        // No room: while enough other inputs are in flight to keep the threads busy, the
        // chunk waits to grow (room comes back as the consumer reads); otherwise it goes.
        if (this.#inFlight - chunk.length < 2 * MAX_CHUNK) this.#flushChunk();
      },
    });
  }

  /** Inputs taken and not yet handed to the consumer. */
  #held(): number {
    return this.#inFlight + this.#outcomes.held;
  }

  #take(r: IteratorResult<I>): void {
    if (this.#finished) return;
    if (r.done === true) {
      this.#sourceDone = true;
      this.#flushChunk();
      this.#wakeIfDone();
      return;
    }
    const input = r.value;
    const index = this.#taken++;
    this.#inFlight++;
    if (this.#chunks) {
      const size = this.#engine.chunkSize(this.#jobOptions.task ?? 'default');
      if (size > 1 || this.#chunk !== undefined) {
        if (this.#chunk === undefined) {
          this.#chunk = [];
          this.#chunkIndex = index;
        }
        this.#chunk.push(input);
        if (this.#chunk.length >= size) this.#flushChunk();
        return;
      }
    }
    this.#submitOne(input, index, 0);
  }

  /** Submits one input as a job of its own, with `tries` already used. */
  #submitOne(input: I, index: number, tries: number): void {
    const transfer = this.#transfer === undefined ? {} : { transfer: this.#transfer(input) };
    let key: string | undefined;
    let keyError: { error: unknown } | undefined;
    if (this.#key !== undefined) {
      try {
        const k = this.#key(input, index);
        key = k === undefined ? undefined : checkKey(k);
      } catch (error) {
        keyError = { error };
      }
    }
    const job = new Job(this.#engine.nextId(), input, this.#jobOptionsFor(index), this.#pool, {
      index,
      owner: this,
      tries,
      ...transfer,
      ...(this.#key === undefined ? {} : { key }),
    });
    if (keyError !== undefined) {
      job.settle(false, keyError.error); // this input's outcome, not the stream's end
      return;
    }
    this.#engine.submit(job);
  }
}

/**
 * What the local pool's stream (`execute`/`wrap`) and the remote pool's have in common:
 * inputs pulled from the source while fewer than `window` are taken and not yet handed to
 * the consumer, outcomes handed out through an async iterator, and the ways a stream ends
 * (the source's end, its error, an abort, the consumer leaving).
 *
 * A subclass says only how inputs run: {@link StreamCore.take} submits one, the subclass
 * reports each input's outcome through {@link StreamCore.outcome}, and
 * {@link StreamCore.cancel} gives up the unsettled ones. The hooks count inputs, not jobs,
 * so a subclass is free to carry several inputs in one job.
 *
 * @module
 */
import { OutcomeBuffer } from './outcome-buffer.js';
import { SourcePuller } from './source-puller.js';
import { AbortError, InvalidOptionError } from '../util/errors.js';
import { checkInteger } from '../util/validate.js';

/** One job's outcome in `execute`/`wrap`. `index` is the input's position in the source. */
export type Outcome<I = unknown, R = unknown> =
  | { index: number; input: I; ok: true; value: R }
  | { index: number; input: I; ok: false; error: unknown };

/** The options every stream takes, unchecked; each subclass checks its others itself. */
export interface CoreOptions<I> {
  ordered?: boolean | undefined;
  window?: number | undefined;
  signal?: AbortSignal | undefined;
  key?: ((input: I, index: number) => string | undefined) | undefined;
}

/** How a subclass's stream differs, beyond its hooks. */
export interface CoreSetup {
  /** What the error for a source that is not iterable calls it (`source` or `inputs`). */
  readonly sourceName: string;
  /** The window when the options give none. */
  readonly window: number;
  /** Checks what the key function returned; what it throws is that input's outcome. */
  readonly checkKey: (key: unknown) => string;
  /**
   * Whether `return()` waits for the inputs {@link StreamCore.cancel} left running: the local
   * pool lets running jobs finish; a remote client gives every job up at once.
   */
  readonly waitOnReturn: boolean;
}

export abstract class StreamCore<I, R> implements AsyncIterableIterator<Outcome<I, R>> {
  readonly #key: ((input: I, index: number) => string | undefined) | undefined;
  readonly #checkKey: (key: unknown) => string;
  readonly #waitOnReturn: boolean;
  readonly #signal: AbortSignal | undefined;
  readonly #window: number;
  readonly #outcomes: OutcomeBuffer<Outcome<I, R>>;
  readonly #inputs: SourcePuller<I>;
  /** Inputs taken from the source so far: the next one's index. */
  #taken = 0;
  /** Inputs submitted and not settled (inputs, not jobs: a job may carry several). */
  #inFlight = 0;
  /** Outcomes are dropped: the stream was aborted. */
  #discard = false;
  /** No more inputs are taken: the source ended or failed, or the stream was aborted. */
  #sourceDone = false;
  /** What the output ends with, after in-flight inputs settle: the source's error or an abort. */
  #error: unknown;
  /** `#error` is still to be thrown to the consumer. */
  #failed = false;
  /** The consumer stopped (`return()`), or the output has ended. */
  #finished = false;
  /** Resolves `return()` once in-flight inputs have settled. */
  #onIdle: (() => void) | undefined;
  /** Removes the abort listener. */
  #unlisten: (() => void) | undefined;

  /** Checks the common options and the source; nothing is taken until {@link start}. */
  protected constructor(
    source: Iterable<I> | AsyncIterable<I>,
    options: CoreOptions<I>,
    setup: CoreSetup,
  ) {
    const { ordered, window, signal, key } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new InvalidOptionError('signal', 'an AbortSignal', signal);
    }
    if (key !== undefined && typeof key !== 'function') {
      throw new InvalidOptionError('key', 'a function of the input and its index', key);
    }
    this.#key = key;
    this.#checkKey = setup.checkKey;
    this.#waitOnReturn = setup.waitOnReturn;
    this.#signal = signal;
    this.#outcomes = new OutcomeBuffer(ordered === true);
    this.#window = checkInteger('window', window ?? setup.window, 1);
    // A primitive (null, a number) has no iterator to look up: checked here, not left to a TypeError.
    const iterable = source as Partial<Iterable<I> & AsyncIterable<I>> | null | undefined;
    if (typeof iterable?.[Symbol.asyncIterator] === 'function') {
      this.#inputs = this.#puller((source as AsyncIterable<I>)[Symbol.asyncIterator](), false);
    } else if (typeof iterable?.[Symbol.iterator] === 'function') {
      this.#inputs = this.#puller((source as Iterable<I>)[Symbol.iterator](), true);
    } else {
      throw new InvalidOptionError(setup.sourceName, 'an iterable or async iterable', source);
    }
  }

  /**
   * Listens to the signal and takes the first inputs. The subclass calls it last in its
   * constructor: from here on the hooks run (a sync source is read at once, an aborted
   * signal cancels at once), so the subclass's own fields must be set by then.
   */
  protected start(): void {
    const signal = this.#signal;
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

  /**
   * Submits one input. The base has given it its `index` and counted it in flight; the
   * subclass reports it settled through {@link outcome}, exactly once. `key` is what the
   * key function returned, checked (undefined without one).
   */
  protected abstract take(input: I, index: number, key: string | undefined): void;

  /**
   * Gives up the stream's unsettled inputs, each settling (through {@link outcome}) with
   * `error` or an error made from its cause. `running` false (`return()`): inputs already
   * running may be left to finish, as {@link CoreSetup.waitOnReturn} says; true (an abort):
   * every one is given up.
   */
  protected abstract cancel(error: AbortError, running: boolean): void;

  /**
   * One input settled: its outcome goes to the consumer unless nobody will read it. With
   * `refill` false the source is not pulled now: the subclass settles several inputs and
   * then calls {@link refill} once.
   */
  protected outcome(index: number, input: I, ok: boolean, value: unknown, refill = true): void {
    this.#inFlight--;
    if (this.#discard || this.#finished) {
      if (this.#inFlight === 0) this.#onIdle?.();
      this.#wakeIfDone();
      return;
    }
    this.#outcomes.add(
      ok
        ? { index, input, ok: true, value: value as R }
        : { index, input, ok: false, error: value },
    );
    this.#wakeIfDone();
    if (refill) this.#inputs.fill();
  }

  /** Takes inputs from the source while there is room. */
  protected refill(): void {
    this.#inputs.fill();
  }

  /**
   * A pass of taking inputs ended: `waiting` for an async source's next input, `full`
   * (no room until the consumer reads), or `done` (the source ended or failed, or the
   * stream was stopped). A subclass that holds inputs back to send together sends them
   * now or soon (it must by `done`).
   */
  protected paused(_why: 'waiting' | 'full' | 'done'): void {
    // A subclass that sends each input at once has nothing held back.
  }

  /** Inputs taken and not settled (held back by the subclass, or out). */
  protected get inFlight(): number {
    return this.#inFlight;
  }

  /** Whether the consumer may still see outcomes: the stream was neither left nor aborted. */
  protected get reading(): boolean {
    return !this.#finished && !this.#discard;
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

  /** The consumer stopped early: stop pulling, give up the inputs out, drop their outcomes. */
  async return(): Promise<IteratorResult<Outcome<I, R>>> {
    this.#finished = true;
    this.#unlisten?.();
    this.#outcomes.clear();
    this.cancel(new AbortError('the consumer stopped reading'), false);
    const closing = this.#inputs.close();
    if (this.#waitOnReturn && this.#inFlight > 0) {
      await new Promise<void>((resolve) => (this.#onIdle = resolve));
    }
    await closing;
    return { value: undefined, done: true };
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

  /** Stops taking inputs; the output ends with `error` after in-flight inputs settle. */
  #stop(error: unknown): void {
    if (this.#finished || this.#failed) return;
    this.#failed = true;
    this.#error = error;
    this.#sourceDone = true;
    void this.#inputs.close();
    this.paused('done');
    if (error instanceof AbortError) {
      this.#outcomes.clear();
      this.#discard = true; // the inputs given up now yield nothing: the output ends with the abort
      this.cancel(error, true);
    }
    this.#wakeIfDone();
  }

  #wakeIfDone(): void {
    if (!this.#outcomes.waiting || !this.#sourceDone) return;
    if (this.#inFlight > 0 || this.#outcomes.ready > 0) return;
    this.#outcomes.end(this.#end());
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
        this.paused(this.#sourceDone || this.#finished ? 'done' : waiting ? 'waiting' : 'full');
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
      this.paused('done');
      this.#wakeIfDone();
      return;
    }
    const input = r.value;
    const index = this.#taken++;
    this.#inFlight++;
    let key: string | undefined;
    if (this.#key !== undefined) {
      try {
        const k = this.#key(input, index);
        key = k === undefined ? undefined : this.#checkKey(k);
      } catch (error) {
        this.outcome(index, input, false, error); // this input's outcome, not the stream's end
        return;
      }
    }
    try {
      this.take(input, index, key);
    } catch (error) {
      // A callback of the subclass threw before the input went out (a local `transfer`):
      // it is not in flight, or the stream would wait for it forever.
      this.#inFlight--;
      throw error;
    }
  }
}

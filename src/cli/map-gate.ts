/**
 * How many records `corral map` takes from its input ahead of the results it has written.
 *
 * `pool.wrap` bounds memory with a fixed window (threads × 1024 records). That is the right
 * size for small records, but with slow ones it is minutes of work: after Ctrl-C the CLI
 * lets every record it has taken finish, so it would keep running that long. The gate
 * sizes the window by the measured rate instead, to about half a second of work, within
 * the pool's window.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { onAbort } from '../util/abort.js';

/** Seconds of work to keep taken ahead of the output. */
const AHEAD_SECONDS = 0.5;
/** Records per thread the gate always allows, so no thread waits for its next record. */
const MIN_PER_THREAD = 2;
/** Records per thread at most: the pool's own default `window` for `wrap`. */
const MAX_PER_THREAD = 1024;

/**
 * Counts records taken and released, and makes the reader wait while too many are out.
 *
 * @example
 * ```ts
 * const gate = new InflightGate(threads, stopSignal);
 * if (!(await gate.room())) return; // stopped
 * gate.take(); yield record;
 * // ... once its result is written:
 * gate.release();
 * ```
 */
export class InflightGate {
  /** Records taken and not yet released. */
  #held = 0;
  /** Records released so far, to measure the rate. */
  #released = 0;
  /** The fewest and most records the gate lets out at once. */
  readonly #min: number;
  readonly #max: number;
  /** Current limit on {@link InflightGate.#held}. */
  #limit: number;
  /** `performance.now()` at construction. */
  readonly #start = performance.now();
  /** `performance.now()` when the limit was last recomputed. */
  #sizedAt = this.#start;
  /** The reader waiting in {@link InflightGate.room}. */
  #waiter: ((open: boolean) => void) | undefined;
  /** No more records may be taken. */
  #stopped = false;

  /** `stop` aborting stops the gate (see {@link InflightGate.stop}). */
  constructor(threads: number, stop?: AbortSignal) {
    this.#min = threads * MIN_PER_THREAD;
    this.#max = threads * MAX_PER_THREAD;
    this.#limit = this.#min;
    onAbort(stop, () => {
      this.stop();
    });
  }

  /** The most records that may be out at once, ever: pass it to `wrap` as its `window`. */
  get max(): number {
    return this.#max;
  }

  /** Resolves `true` when another record may be taken, `false` once the gate is stopped. */
  room(): Promise<boolean> {
    if (this.#stopped) return Promise.resolve(false);
    if (this.#held < this.#limit) return Promise.resolve(true);
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  /** A record was taken. */
  take(): void {
    this.#held++;
  }

  /** A record's outcome was written. */
  release(): void {
    this.#held--;
    this.#released++;
    const now = performance.now();
    if (now - this.#sizedAt >= 50) this.#resize(now);
    if (this.#held < this.#limit) this.#wake(true);
  }

  /** Lets no more records out; a waiting reader gets `false`. */
  stop(): void {
    this.#stopped = true;
    this.#wake(false);
  }

  #resize(now: number): void {
    this.#sizedAt = now;
    const perSecond = (this.#released * 1000) / (now - this.#start);
    const wanted = Math.ceil(perSecond * AHEAD_SECONDS);
    this.#limit = Math.min(this.#max, Math.max(this.#min, wanted));
  }

  #wake(open: boolean): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.(open);
  }
}

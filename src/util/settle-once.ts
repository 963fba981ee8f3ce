/**
 * An outcome delivered exactly once, to a promise or to an owner, with the timer and the
 * abort listener that may race to settle it released when it does. A local job
 * (`pool/job.ts`) extends it, and so can anything else that one caller waits for (a remote
 * job): what such a class must get right is written once here.
 *
 * @module
 */
import { onAbort } from './abort.js';

/** Who hears an outcome instead of a promise (a stream adapter, for instance). */
export interface SettleOwner<T> {
  /** Called once, with the subject that settled and its outcome. */
  settled(subject: T, ok: boolean, value: unknown): void;
}

/**
 * Base class of something settled once. Its outcome goes to the owner given to the
 * constructor, or else to the promise {@link promise} returned; a second {@link settle}
 * does nothing. Settling clears the timer ({@link startTimer}) and removes the abort
 * listener ({@link listen}), so neither outlives the outcome, then calls
 * {@link released} for the subclass to drop what it no longer needs (its input).
 *
 * It is a base class, not a field, so that a job costs no second object.
 *
 * @example
 * ```ts
 * class Call extends SettleOnce<Call> {
 *   constructor(signal: AbortSignal | undefined, ms: number) {
 *     super(undefined);
 *     this.listen(signal, (reason) => this.settle(false, reason));
 *     this.startTimer(ms, () => this.settle(false, new Error('timed out')));
 *   }
 * }
 * const call = new Call(signal, 1_000);
 * const outcome = call.promise();
 * call.settle(true, 42); // later calls, the timer and the abort do nothing
 * ```
 */
export class SettleOnce<T> {
  /** Who hears the outcome; undefined: the promise does. */
  readonly owner: SettleOwner<T> | undefined;
  #settled = false;
  /** The one timer that may settle it (a timeout, an abort's grace), while it runs. */
  #timer: NodeJS.Timeout | undefined;
  /** Removes the abort listener. */
  #unlisten: (() => void) | undefined;
  #resolve: ((value: unknown) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;

  constructor(owner: SettleOwner<T> | undefined) {
    this.owner = owner;
  }

  /** Whether it has settled. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Routes the outcome to a promise (when there is no owner); call it before settling. */
  promise(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /**
   * Calls `fn` with the reason when `signal` aborts (at once if it has), until it settles.
   * Replaces a previous listener.
   */
  listen(signal: AbortSignal | undefined, fn: (reason: unknown) => void): void {
    this.#unlisten?.();
    this.#unlisten = onAbort(signal, fn);
  }

  /** Runs `fn` after `ms`, replacing the timer running, unless it settles first. */
  startTimer(ms: number, fn: () => void): void {
    this.clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      fn();
    }, ms);
  }

  /** Stops the timer, if one runs. */
  clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Settles: the owner hears it, or the promise resolves (`ok`) or rejects with `value`.
   * Returns false, and does nothing, when it had settled already.
   */
  settle(ok: boolean, value: unknown): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.clearTimer();
    this.#unlisten?.();
    this.#unlisten = undefined;
    if (this.owner !== undefined) this.owner.settled(this as unknown as T, ok, value);
    else if (ok) this.#resolve?.(value);
    else this.#reject?.(value);
    this.released();
    return true;
  }

  /** Called once settled: a subclass drops here what the outcome no longer needs. */
  protected released(): void {
    // Nothing to drop here.
  }
}

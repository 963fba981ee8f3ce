/**
 * The pool's lifecycle as one state with guarded transitions:
 *
 * ```
 * starting -> running -> closing -> closed
 *     \          \          \
 *      `----------`----------`-> failed -> closed (after shutdown())
 * ```
 *
 * `starting` lasts until the first thread is ready. `failed` means the task module
 * cannot run (it does not load, `init()` throws, threads die at start-up, a thread
 * does not finish starting within `startupTimeout`): every job is rejected with the
 * failure. A pool `closing` before any thread was ready is bounded by `startupTimeout`
 * too: the threads still starting then are terminated, and it closes.
 */
import { PoolClosedError } from '../util/errors.js';
import { WaiterQueue } from '../util/waiters.js';

/** What the lifecycle reads of the threads. */
export interface ThreadCount {
  readonly size: number;
  starting(): number;
}

export type PoolState = 'starting' | 'running' | 'closing' | 'closed' | 'failed';

export class Lifecycle {
  #state: PoolState = 'starting';
  /** Why the pool failed, once it has. */
  #failure: Error | undefined;
  /** The threads: the pool is closed once none is left, ready once none is starting. */
  readonly #threads: ThreadCount;
  /** Callers of `ready()` waiting for the threads to start. */
  readonly #readyWaiters = new WaiterQueue<undefined>();
  /** Settles the promise `shutdown()` returns, once asked for. */
  #closed: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(threads: ThreadCount) {
    this.#threads = threads;
  }

  #allStarted(): boolean {
    return this.#threads.starting() === 0;
  }

  get state(): PoolState {
    return this.#state;
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Whether new jobs are taken. */
  get accepting(): boolean {
    return this.#state === 'starting' || this.#state === 'running';
  }

  /** A thread became ready. */
  started(): void {
    if (this.#state === 'starting') this.#state = 'running';
  }

  whenReady(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (!this.accepting && this.#state !== 'closing') return Promise.reject(new PoolClosedError());
    if (this.#allStarted()) return Promise.resolve();
    return this.#readyWaiters.wait();
  }

  checkReady(): void {
    if (this.#readyWaiters.length === 0 || !this.#allStarted()) return;
    for (const w of this.#readyWaiters.drain()) w.resolve(undefined);
  }

  /** Moves to `failed`; false when already failed or closed. */
  fail(error: Error): boolean {
    if (this.#state === 'failed' || this.#state === 'closed') return false;
    this.#state = 'failed';
    this.#failure = error;
    this.#readyWaiters.rejectAll(error);
    return true;
  }

  /** Moves to `closing` (from a live state) and returns the promise that settles when closed. */
  close(): Promise<void> {
    if (this.#state === 'starting' || this.#state === 'running') this.#state = 'closing';
    if (this.#closed === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#closed = { promise, resolve };
    }
    return this.#closed.promise;
  }

  /** Moves to `closed` once shutdown was asked for and no thread is left. */
  checkClosed(): void {
    if (this.#closed === undefined || this.#threads.size > 0) return;
    if (this.#state === 'closing' || this.#state === 'failed') this.#state = 'closed';
    for (const w of this.#readyWaiters.drain())
      w.reject(this.#failure ?? new PoolClosedError('the pool closed before its threads started'));
    this.#closed.resolve();
  }
}

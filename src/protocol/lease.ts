/**
 * A lease as both sides of the thread boundary hand it out: the main thread's
 * `pool.acquire` and a task's `acquire` from `corral/worker` give the same object, which
 * knows only how to give its unit back.
 */

/**
 * One unit of a key's target, held until `release()`.
 *
 * @example
 * ```ts
 * await using lease = await pool.acquire('tenant-a');
 * await callTheTenantsApi();
 * ```
 */
export class Lease implements Disposable, AsyncDisposable {
  /** Unique within the pool, never 0. */
  readonly id: number;
  readonly key: string;
  /** Gives the unit back; set to undefined once done. */
  #release: (() => void) | undefined;

  constructor(id: number, key: string, release: () => void) {
    this.id = id;
    this.key = key;
    this.#release = release;
  }

  /** Gives the unit back. A second call does nothing. */
  release(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  [Symbol.dispose](): void {
    this.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}

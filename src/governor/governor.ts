/**
 * The seam between work and whatever limits how much of it runs at once. The NATS
 * {@link Governor} implements it across a cluster; an in-process governor can implement it
 * too, and a pool accepts either. Nothing here may import NATS.
 *
 * @module
 */

/** Options of {@link ConcurrencyGovernor.start}. */
export interface StartOptions {
  /**
   * Who is asking, shown in the governor's entries (e.g. by `corral governor view`).
   * @default `${hostname}:${pid}`
   */
  readonly name?: string;
  /** Gives up waiting for a slot when aborted; the campaign rejects with an `AbortError`. */
  readonly signal?: AbortSignal;
}

/** A slot held in a governor. Call {@link Slot.finish} when the work is done, even if it failed. */
export interface Slot {
  /** Identifies the slot in the governor (for the NATS governor: the sequence of its entry). */
  readonly seq: number;
  /**
   * Aborts if the slot is lost while held (evicted, or its entry expired), with the reason as
   * `signal.reason`. Work holding the slot should stop then: it no longer counts against the limit.
   * A governor that cannot lose slots never aborts it.
   */
  readonly signal: AbortSignal;
  /**
   * Gives the slot back. Idempotent: later calls return the first call's promise.
   * Rejects if the slot had been lost (the work ran partly outside the limit).
   */
  finish(): Promise<void>;
}

/**
 * Limits how many pieces of work run at once.
 *
 * @example
 * ```ts
 * const slot = await governor.start({ name: 'backup', signal: AbortSignal.timeout(60_000) });
 * try {
 *   await backup({ signal: slot.signal });
 * } finally {
 *   await slot.finish();
 * }
 * ```
 */
export interface ConcurrencyGovernor {
  /** Waits for a free slot and takes it. */
  start(options?: StartOptions): Promise<Slot>;
}

/** Options of {@link runInSlot}. */
export interface RunOptions {
  /** Aborts the wait for a slot, and once running, the `signal` given to the work. */
  readonly signal?: AbortSignal;
}

/**
 * Runs `fn` while holding a slot of `governor`, and gives the slot back when `fn` settles.
 * `fn` receives a signal that aborts when the slot is lost or `options.signal` aborts.
 *
 * Rejects with `fn`'s error if it threw. If `fn` succeeded but the slot was lost while it
 * ran, rejects with the loss (code `ERR_GOVERNOR_SLOT_LOST` for the NATS governor): the
 * result was produced partly outside the limit, and the caller must decide what that means.
 *
 * @example
 * ```ts
 * const report = await runInSlot(governor, 'nightly-report', (signal) => buildReport({ signal }));
 * ```
 */
export async function runInSlot<T>(
  governor: ConcurrencyGovernor,
  name: string,
  fn: (signal: AbortSignal) => T | Promise<T>,
  options: RunOptions = {},
): Promise<T> {
  const slot = await governor.start(
    options.signal === undefined ? { name } : { name, signal: options.signal },
  );
  const signal =
    options.signal === undefined ? slot.signal : AbortSignal.any([slot.signal, options.signal]);
  let result: T;
  try {
    result = await fn(signal);
  } catch (error) {
    // fn's own failure says more than a failure to give the slot back.
    await slot.finish().catch(() => undefined);
    throw error;
  }
  await slot.finish();
  return result;
}

/** Picks the governor of a key (undefined: the key is limited locally only). */
export type GovernorFor = (key: string) => ConcurrencyGovernor | undefined;

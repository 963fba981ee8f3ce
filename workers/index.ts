/**
 * `corral/worker`: helpers for task modules, used inside worker threads.
 *
 * @example
 * ```ts
 * import { transfer, retryable, type TaskContext } from 'corral/worker';
 * export function resize(img: ArrayBuffer, ctx: TaskContext) {
 *   const out = shrink(img);
 *   return transfer(out, [out]);
 * }
 * ```
 * @packageDocumentation
 */
import type { Transferable } from 'node:worker_threads';
import { RETRYABLE } from '../src/protocol/wire-error.js';
import { TRANSFER, isTransfer } from '../src/protocol/codec.js';

/** The second argument every task receives. */
export interface TaskContext<WorkerData = unknown> {
  /** Aborted when the job is cancelled by the caller or times out. Created on first use. */
  readonly signal: AbortSignal;
  /** Which attempt this is: 1 on the first, 2 on the first retry, ... */
  readonly tries: number;
  /** Sends a value to the caller's `onProgress`; a no-op when the caller did not ask for progress. */
  progress(value: unknown): void;
  /** The pool's `workerData` option. */
  readonly workerData: WorkerData;
}

/** What `init(ctx)` receives. */
export interface InitContext<WorkerData = unknown> {
  /** The pool's `workerData` option. */
  readonly workerData: WorkerData;
  /** This thread's id (with `isolation: 'process'`, the worker process's pid). */
  readonly threadId: number;
}

/** A result to be moved, not copied, to the main thread. Made by {@link transfer}. */
export class Transfer<T = unknown> {
  constructor(
    /** The value the caller receives. */
    readonly value: T,
    /** Objects inside `value` to move (ArrayBuffers, MessagePorts, ...). */
    readonly list: readonly Transferable[],
  ) {}

  /** `instanceof` by brand, so that it holds for a `Transfer` made by another copy of corral. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return isTransfer(value);
  }
}
Object.defineProperty(Transfer.prototype, TRANSFER, { value: true });

/**
 * Marks a task's result for transfer: the listed objects are moved to the main thread
 * instead of copied. The caller receives `value`.
 *
 * @example
 * ```ts
 * export function render(n: number) {
 *   const pixels = new Uint8Array(n);
 *   return transfer(pixels, [pixels.buffer]);
 * }
 * ```
 */
export function transfer<T>(value: T, list: readonly Transferable[]): T {
  return new Transfer(value, list) as unknown as T;
}

/**
 * Marks an error as worth retrying: the pool starts the job again while it has tries
 * left (`maxTries`), and rejects with this error when it has none.
 *
 * @example
 * ```ts
 * export async function fetchRow(id: number) {
 *   try { return await db.get(id); } catch (e) { throw retryable(e); }
 * }
 * ```
 */
export function retryable<E>(error: E): E {
  if (typeof error === 'object' && error !== null) {
    Object.defineProperty(error, RETRYABLE, { value: true, enumerable: false, configurable: true });
    return error;
  }
  const wrapped = new Error(String(error));
  Object.defineProperty(wrapped, RETRYABLE, { value: true, enumerable: false });
  return wrapped as E;
}

export { ResourcePool, type ResourcePoolOptions } from '../src/inflight/resource-pool.js';

export { acquire, counts } from './leases.js';
export { OutsidePoolError } from '../src/util/errors.js';
export type { Lease } from '../src/protocol/lease.js';

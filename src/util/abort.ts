/**
 * AbortSignal wiring, written once: a listener that is always removed, and a promise
 * that an abort rejects and withdraws. Hand-written wiring tends to get one of three
 * things wrong: a signal that was aborted before anyone listened, a listener left on a
 * long-lived signal after the work settled (a leak per call), or a waiter left queued
 * after its caller gave up.
 */
import { AbortError } from './errors.js';

/**
 * Calls `fn` with the signal's reason when `signal` aborts, at most once; at once if it
 * has aborted already. Returns a function that removes the listener (safe to call more
 * than once, and after the abort). An undefined signal never aborts.
 *
 * @example
 * ```ts
 * const unlisten = onAbort(signal, (reason) => stream.destroy(reason as Error));
 * try { await copy(stream); } finally { unlisten(); }
 * ```
 */
export function onAbort(
  signal: AbortSignal | undefined,
  fn: (reason: unknown) => void,
): () => void {
  if (signal === undefined) return noop;
  if (signal.aborted) {
    fn(signal.reason);
    return noop;
  }
  const listener = (): void => {
    fn(signal.reason);
  };
  signal.addEventListener('abort', listener, { once: true });
  return () => {
    signal.removeEventListener('abort', listener);
  };
}

/**
 * Runs `executor` in a new promise that `signal` can cancel. The executor starts the work
 * and may return a function that withdraws it. If `signal` aborts before the executor
 * settles the promise, the withdraw function runs and the promise rejects with
 * `toError(signal.reason)` (by default corral's {@link AbortError}, code `ABORT_ERR`).
 * A signal aborted from the start rejects at once, without running the executor. The
 * abort listener is removed as soon as the promise settles, however it settles.
 *
 * @example
 * ```ts
 * const lease = await abortable<Lease>(signal, (resolve, reject) => {
 *   const req = send({ type: 'acquire' }, resolve, reject);
 *   return () => send({ type: 'withdraw', req });
 * });
 * ```
 */
export function abortable<T>(
  signal: AbortSignal | undefined,
  executor: (
    resolve: (value: T) => void,
    reject: (error: unknown) => void,
  ) => (() => void) | undefined,
  toError: (reason: unknown) => unknown = (reason) => new AbortError(reason),
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted === true) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller chose what an abort rejects with
      reject(toError(signal.reason));
      return;
    }
    // An object, not a variable: TS would not see the executor's callbacks change a variable.
    const call = { settled: false };
    let unlisten = noop;
    const withdraw = executor(
      (value) => {
        if (call.settled) return;
        call.settled = true;
        unlisten();
        resolve(value);
      },
      (error) => {
        if (call.settled) return;
        call.settled = true;
        unlisten();
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the work's own error, as it is
        reject(error);
      },
    );
    // The executor may have settled at once: then there is nothing to listen for.
    if (call.settled) return;
    unlisten = onAbort(signal, (reason) => {
      // Settled first, so whatever withdrawing does cannot answer in the abort's place.
      call.settled = true;
      try {
        withdraw?.();
      } finally {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller chose what an abort rejects with
        reject(toError(reason));
      }
    });
  });
}

function noop(): void {
  // Nothing to remove.
}

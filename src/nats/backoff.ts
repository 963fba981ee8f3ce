/**
 * Waiting between retries: a capped exponential backoff with jitter, and a sleep that an
 * AbortSignal cuts short.
 *
 * @module
 */

/**
 * The wait before retry number `attempt` (0-based): `interval * 2^attempt` capped at
 * `maxInterval`, then a random point in its upper half ("equal jitter"). The jitter spreads
 * campaigners that were refused together, so they do not all come back in the same instant;
 * the lower bound keeps anyone from hammering the server.
 */
export function retryDelay(attempt: number, interval: number, maxInterval: number): number {
  const ceiling = Math.min(maxInterval, interval * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Resolves after `ms`, or rejects with `signal.reason` as soon as `signal` aborts.
 * Never leaves a timer or a listener behind.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

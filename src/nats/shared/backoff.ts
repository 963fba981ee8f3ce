/**
 * Waiting between retries: the backoff policies of a campaign, and a sleep that an
 * AbortSignal cuts short.
 *
 * @module
 */
import { abortable } from '../../util/abort.js';
import { InvalidOptionError } from '../../util/errors.js';

/**
 * How long a campaign waits before trying again while the governor is full:
 * - `'exponential'`: `retryInterval`, doubling on each try up to `maxRetryInterval`, each
 *   wait a random point in the upper half of that ("equal jitter");
 * - `'constant'`: `retryInterval` every time, give or take 10%;
 * - a function of the try number (0 for the wait after the first refusal) returning the
 *   wait in ms, as choria's `WithBackoff` takes a policy.
 *
 * The jitter spreads campaigners that were refused together, so they do not all come back
 * in the same instant.
 */
export type BackoffPolicy = 'exponential' | 'constant' | ((attempt: number) => number);

/** The policies that have a name, as the CLI's `--backoff` takes them. */
export const BACKOFF_POLICIES = ['exponential', 'constant'] as const;

/**
 * The wait before retry number `attempt` (0-based): `interval * 2^attempt` capped at
 * `maxInterval`, then a random point in its upper half. The lower bound keeps anyone from
 * hammering the server.
 */
export function retryDelay(attempt: number, interval: number, maxInterval: number): number {
  const ceiling = Math.min(maxInterval, interval * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * The wait before retry number `attempt` under `policy`, in ms.
 *
 * @throws {InvalidOptionError} a policy function answered something other than a finite
 * number of at least 0.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  interval: number,
  maxInterval: number,
): number {
  if (policy === 'exponential') return retryDelay(attempt, interval, maxInterval);
  if (policy === 'constant') return interval * (0.9 + Math.random() * 0.2);
  const wait: unknown = policy(attempt);
  if (typeof wait !== 'number' || !Number.isFinite(wait) || wait < 0) {
    throw new InvalidOptionError('backoff', 'a function returning a number of ms >= 0', wait);
  }
  return wait;
}

/**
 * Resolves after `ms`, or rejects with `signal.reason` as soon as `signal` aborts.
 * Never leaves a timer or a listener behind.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  // Rejects with the signal's own reason, as the campaign code expects.
  return abortable<undefined>(
    signal,
    (resolve) => {
      const timer = setTimeout(resolve, ms, undefined);
      return () => {
        clearTimeout(timer);
      };
    },
    (reason) => reason,
  ).then(() => undefined);
}

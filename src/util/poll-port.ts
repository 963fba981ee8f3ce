/**
 * Polling a `MessagePort` for a short while instead of waiting on the event loop. Both ends
 * of a thread's port do it: the pool while it waits for a result it is about to need, the
 * thread while it is idle. Waking a sleeping thread costs about 50 µs on a round trip; a
 * message that arrives within the window is taken without one.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';

/**
 * Takes the next message from `port` if one arrives within `ms` (looking at least once),
 * as `receiveMessageOnPort` gives it (`{ message }`); undefined if none did.
 */
export function pollPort(port: MessagePort, ms: number): { message: unknown } | undefined {
  const end = performance.now() + ms;
  do {
    const next = receiveMessageOnPort(port);
    if (next !== undefined) return next;
  } while (performance.now() < end);
  return undefined;
}

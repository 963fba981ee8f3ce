/**
 * Cutting a request short when its connection reconnects.
 *
 * Why: a request sent while the connection was down is never delivered (the client resets
 * what it buffered before each dial), and one written to the socket that died is gone with
 * it. Either way its reply never comes, and waiting out the request timeout after the server
 * is back can cost a slot its entry (issue 12: with `maxAge` 6 s, a refresh waiting 5 s for
 * a reply that could not come). So the governor's requests end at the next reconnection
 * with {@link NatsReconnectedError}, and the governor sends them again at once: every write
 * carries a message id, so a copy that did arrive is answered as a duplicate.
 *
 * @module
 */
import type { jetstream } from '@nats-io/jetstream';
import { NatsReconnectedError } from './errors.js';

type Connection = Parameters<typeof jetstream>[0];

/** Watches one connection's status for reconnections, while anyone waits for one. */
class ReconnectWatch {
  /** Called at the next reconnection; each removes itself. */
  readonly #waiters = new Set<() => void>();

  constructor(nc: Connection) {
    void this.#watch(nc);
  }

  /** A promise that resolves at the next reconnection, and a function to stop waiting. */
  next(): { readonly reconnected: Promise<void>; readonly cancel: () => void } {
    let waiter: () => void = () => undefined;
    const reconnected = new Promise<void>((resolve) => {
      waiter = resolve;
    });
    this.#waiters.add(waiter);
    return { reconnected, cancel: () => this.#waiters.delete(waiter) };
  }

  async #watch(nc: Connection): Promise<void> {
    try {
      // Ends when the connection closes; until then one listener per connection.
      for await (const status of nc.status()) {
        if (status.type !== 'reconnect') continue;
        const waiters = [...this.#waiters];
        this.#waiters.clear();
        for (const waiter of waiters) waiter();
      }
    } catch {
      // A connection whose status cannot be read: requests then end by their timeout.
    }
  }
}

const watches = new WeakMap<Connection, ReconnectWatch>();

/**
 * Settles like `request`, unless `nc` reconnects first: then rejects with
 * {@link NatsReconnectedError} (the request may or may not have reached the server).
 */
export async function untilReconnect<T>(
  nc: Connection,
  request: Promise<T>,
  subject: string,
): Promise<T> {
  let watch = watches.get(nc);
  if (watch === undefined) {
    watch = new ReconnectWatch(nc);
    watches.set(nc, watch);
  }
  const { reconnected, cancel } = watch.next();
  // Its outcome no longer matters once cut; it still settles, by its timeout at the latest.
  request.catch(() => undefined);
  try {
    return await Promise.race([
      request,
      reconnected.then(() => {
        throw new NatsReconnectedError(subject);
      }),
    ]);
  } finally {
    cancel();
  }
}

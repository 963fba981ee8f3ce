/**
 * The connection that the governor and the work queue take: applications connect with the
 * transport and options they choose, and corral's NATS classes only use it.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { jetstream } from '@nats-io/jetstream';

/**
 * A connection to NATS, from any transport (`@nats-io/transport-node`, WebSockets, Deno).
 * Derived from `jetstream()` so that corral's NATS classes depend on `@nats-io/jetstream`
 * only, never on one transport.
 */
export type NatsConnection = Parameters<typeof jetstream>[0];

/**
 * A subject prefix of one's own for replies, `<inbox prefix>.<random>` (no trailing dot),
 * under the connection's inbox prefix as `nc.request()` would use it: it may be the only
 * one the account's permissions let replies through.
 */
export function privateInbox(nc: NatsConnection): string {
  const prefix = (nc as { options?: { inboxPrefix?: unknown } }).options?.inboxPrefix;
  const base = typeof prefix === 'string' && prefix !== '' ? prefix : '_INBOX';
  return `${base}.${randomBytes(11).toString('hex')}`;
}

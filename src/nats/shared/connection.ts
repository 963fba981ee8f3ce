/**
 * The connection that the governor and the work queue take: applications connect with the
 * transport and options they choose, and corral's NATS classes only use it.
 *
 * @module
 */
import type { jetstream } from '@nats-io/jetstream';

/**
 * A connection to NATS, from any transport (`@nats-io/transport-node`, WebSockets, Deno).
 * Derived from `jetstream()` so that corral's NATS classes depend on `@nats-io/jetstream`
 * only, never on one transport.
 */
export type NatsConnection = Parameters<typeof jetstream>[0];

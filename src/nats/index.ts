/**
 * `corral/nats`: a cluster-wide concurrency governor on NATS JetStream.
 * Needs `@nats-io/jetstream` (and a transport such as `@nats-io/transport-node`) installed.
 *
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node';
 * import { Governor, GovernorManager } from 'corral/nats';
 *
 * const nc = await connect({ servers: process.env.NATS_URL });
 * await GovernorManager.create(nc, 'deploys', { limit: 3, maxAge: 300_000 });
 * const governor = new Governor(nc, 'deploys');
 * await governor.run('web-1', (signal) => deploy({ signal }));
 * ```
 *
 * How it keeps the limit where JetStream alone (and choria's governor) would not:
 * - **Lost replies**: every try of a campaign carries the campaign's message id, and each
 *   campaign publishes to a subject of its own that holds one entry; a retry after a timeout
 *   is answered as a duplicate (or replaces the entry), never adds a second one.
 * - **Lowering the limit** below the slots held is refused (`ERR_GOVERNOR_LIMIT_BELOW_ACTIVE`)
 *   unless forced; forced or not, a holder whose entry is deleted learns it: its slot's
 *   `signal` aborts at the next refresh and `finish()` rejects (`ERR_GOVERNOR_SLOT_LOST`).
 * - **Work longer than `maxAge`**: a held slot rewrites its entry every `maxAge / 3`, so only
 *   a holder that died (or cannot reach the server for `maxAge`) loses its slot to expiry; a
 *   live one that loses it anyway is told through `signal`, and `run()` passes that signal on.
 * - **A server restart** shorter than about a third of `maxAge` costs no slot: replies are
 *   waited for no longer than an entry has left, a request cut by a reconnection is sent
 *   again at once, and a slot's age starts at a write whose reply came back.
 * - **Unknown governors** are `ERR_UNKNOWN_GOVERNOR`, not 'jetstream is not enabled'.
 * - When full, a campaign retries after 250 ms, doubling to at most 2 s, each wait jittered
 *   within its upper half, until its `signal` aborts (`backoff`, `retryInterval`).
 * - **Max per period**: with `leaveOnFinish: false`, entries are left to expire, so at most
 *   `limit` slots are granted per `maxAge` window.
 *
 * @module
 */
// runInSlot and the error classes, governor's and work queue's: they need no NATS client.
export * from './client-free.js';
export type { BackoffPolicy } from './shared/backoff.js';
export { Governor, type GovernorOptions } from './governor/nats-governor.js';
export type { NatsConnection } from './governor/governor-stream.js';
export {
  GovernorManager,
  type ConfigChanges,
  type CreateOptions,
  type GovernorConfig,
  type GovernorEntry,
  type GovernorInfo,
  type LimitOptions,
} from './governor/manager.js';
export type { NatsSlot } from './governor/slot.js';

// ---------------------------------------------------------------- work queue (issue 10)
// Jobs of a pool run across hosts on a JetStream work queue: the client `RemotePool`
// (the API of a local Pool), the host `serve()`, and `queueInfo()`. Its errors are among
// those of ./client-free.js above.
export { RemotePool, type RemotePoolOptions } from './queue/remote-pool.js';
export type { RemotePoolStats } from './queue/client.js';
export { serve, type ServeOptions } from './queue/serve.js';
export { Host, type HostState, type HostStats } from './queue/host.js';
export { queueInfo, type QueueInfo } from './queue/info.js';
export type { HostPresence } from './queue/presence.js';
export type { QueueConfig } from './queue/layout.js';
// ---------------------------------------------------------------- end of work queue

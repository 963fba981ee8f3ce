/**
 * `corral/nats`: what corral does across hosts on NATS JetStream, in two halves that share
 * only the connection and its plumbing (`./shared/`: connecting, backoff, durations,
 * reconnections, reading JetStream's errors, the {@link NatsConnection} type).
 * Needs `@nats-io/jetstream` (and a transport such as `@nats-io/transport-node`) installed;
 * `./entry.ts` is what `import 'corral/nats'` runs, and names the packages if they are missing.
 *
 * **The governor** (`./governor/`): a cluster-wide limit on how many holders run at once.
 * `Governor` campaigns for a slot and holds it; `GovernorManager` creates, inspects, changes
 * and removes governors.
 *
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
 * **The work queue** (`./queue/`): the jobs of one pool run on many hosts. `RemotePool` is
 * the client, with the API of a local `Pool` (both are an `Executor`); `serve()` starts a
 * `Host` that runs a task module on a local pool; `queueInfo()` reads a queue's state.
 *
 * ```ts
 * import { connect } from '@nats-io/transport-node';
 * import { RemotePool, serve } from 'corral/nats';
 *
 * const nc = await connect({ servers: process.env.NATS_URL });
 * await serve(nc, 'thumbnails', { module: './resize.js', threads: 4 }); // on each host
 * await using pool = new RemotePool(nc, 'thumbnails', { maxTries: 3 }); // the client
 * for await (const o of pool.wrap(files, { task: 'resize' })) if (!o.ok) console.error(o.error);
 * ```
 *
 * How a job settles once and is not lost, with no broker of corral's own:
 * - **Durable, exactly-once publishing**: jobs and results live in file-backed work-queue
 *   streams; every publish is retried with the same message id, so a publish cut by a
 *   timeout or a server restart is stored once.
 * - **A dead host's jobs come back**: hosts pull from one shared consumer and keep their
 *   claim alive with in-progress acks, so a killed host's messages are redelivered after
 *   `AckWait`; each delivery counts a try, and a job without tries left rejects
 *   `ERR_HOST_LOST`.
 * - **Settled once at the client**: a result that arrives twice after a redelivery is dropped;
 *   a connection closed for good rejects every pending job (`ERR_QUEUE_CONNECTION_CLOSED`).
 * - **Given-up jobs are withdrawn**: one not yet published is never sent, a message all of
 *   whose jobs were given up before any result is deleted, and hosts running them are told
 *   to abort them.
 * - **Draining** a host (`drain()`, or its `signal`) finishes and reports what it holds;
 *   nothing of it runs again elsewhere.
 *
 * @module
 */
// runInSlot and the error classes, governor's and work queue's: they need no NATS client.
export * from './client-free.js';
export type { BackoffPolicy } from './shared/backoff.js';
export type { NatsConnection } from './shared/connection.js';
// The governor.
export { Governor, type GovernorOptions } from './governor/nats-governor.js';
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

// The work queue. Its errors are among those of ./client-free.js above.
export { RemotePool, type RemotePoolOptions } from './queue/remote-pool.js';
export type { RemotePoolStats } from './queue/client.js';
export { serve, type ServeOptions } from './queue/serve.js';
export { Host, type HostState, type HostStats } from './queue/host.js';
export { queueInfo, type QueueInfo } from './queue/info.js';
export type { HostPresence } from './queue/presence.js';
export type { QueueConfig } from './queue/layout.js';

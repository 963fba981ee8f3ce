/**
 * `corral/dashboard`: a live page for a pool or a work queue, served over HTTP.
 *
 * @module
 */
import { Pool } from '../index.js';
import { InvalidOptionError } from '../util/errors.js';
import type { NatsConnection } from '../nats/shared/connection.js';
import type { RemotePool } from '../nats/queue/remote-pool.js';
import { DashboardHistory } from './history.js';
import { LocalSource } from './local-source.js';
import { resolveDashboardOptions, type DashboardOptions } from './options.js';
import { DashboardServer } from './server.js';
import type { DashboardSource } from './source.js';

export type { DashboardOptions } from './options.js';
export type * from './model.js';

/** A queue to watch: what `corral dashboard --queue` serves. */
export interface QueueTarget {
  readonly nc: NatsConnection;
  readonly queue: string;
  /** A client of the queue whose batch (progress, time left) and counts the page shows. */
  readonly client?: RemotePool;
}

/** A dashboard being served, from {@link serveDashboard}. */
export interface Dashboard extends AsyncDisposable {
  /** Where the page is, e.g. `http://127.0.0.1:8080/`. */
  readonly url: string;
  /** Stops serving (the pool or connection stays the caller's). */
  close(): Promise<void>;
}

/**
 * Serves a live page of `target` at `http://127.0.0.1:8080/` (see {@link DashboardOptions}):
 * hosts (or the local pool), throughput, the queue, the batch in progress, run times per
 * task, a task stream and the last failures, updated every second over server-sent events.
 *
 * `target` is a local `Pool`, a `RemotePool` (give its connection as `nc`; the batch shown is
 * that client's), or `{ nc, queue }` for a queue alone (`client` to show a client's batch).
 *
 * @example
 * ```ts
 * const dashboard = await serveDashboard(pool, { port: 8080 });
 * console.log(`dashboard on ${dashboard.url}`);
 * // ...
 * await dashboard.close();
 * ```
 */
export async function serveDashboard(
  target: Pool | RemotePool | QueueTarget,
  options?: DashboardOptions,
): Promise<Dashboard> {
  const resolved = resolveDashboardOptions(options);
  const source = await sourceOf(target, resolved.nc);
  const history = new DashboardHistory(source.title);
  const server = new DashboardServer(() => history.snapshot());
  let reading = false;
  const update = async (): Promise<void> => {
    // A slow read (a queue's server far away) is not stacked up.
    if (reading) return;
    reading = true;
    try {
      server.broadcast(history.advance(await source.read(), Date.now()));
    } catch {
      // The next update tries again.
    } finally {
      reading = false;
    }
  };
  let address;
  try {
    address = await server.listen(resolved.port, resolved.host);
  } catch (error) {
    await source.close();
    await server.close();
    throw error;
  }
  await update();
  const timer = setInterval(() => void update(), resolved.interval);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(timer);
      await server.close();
      await source.close();
    })();
    return closing;
  };
  return { url: `http://${host}:${address.port}/`, close, [Symbol.asyncDispose]: close };
}

async function sourceOf(
  target: Pool | RemotePool | QueueTarget,
  nc: NatsConnection | undefined,
): Promise<DashboardSource> {
  if (target instanceof Pool) return new LocalSource(target);
  // Loaded only for a queue: the core never loads the NATS client.
  const { ClusterSource } = await import('./cluster-source.js');
  if ('nc' in target) return new ClusterSource(target.nc, target.queue, target.client);
  if (nc === undefined) throw new InvalidOptionError('nc', "the RemotePool's NATS connection", nc);
  return new ClusterSource(nc, target.queue, target);
}

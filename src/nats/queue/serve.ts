/**
 * `serve()`: starting a host of a queue. The module is loaded (on a local pool) before the
 * host takes any job, so a module that cannot load fails here and the queue never sees it.
 *
 * @module
 */
import { holderName } from '../../util/holder-name.js';
import { jetstream } from '@nats-io/jetstream';
import { Pool, type PoolOptions } from '../../index.js';
import type { NatsConnection } from '../shared/connection.js';
import { Host } from './host.js';
import {
  ensureQueue,
  HOSTS_CONSUMER,
  queueLayout,
  resolveQueueConfig,
  type QueueConfig,
} from './layout.js';

/** Options of {@link serve}: the local pool's, and the host's own. */
export interface ServeOptions extends Pick<
  PoolOptions,
  | 'module'
  | 'threads'
  | 'concurrency'
  | 'governor'
  | 'defaultTarget'
  | 'workerData'
  | 'resourceLimits'
  | 'execArgv'
  | 'abortGrace'
  | 'recycle'
  | 'isolation'
> {
  /** Per-key targets of the local pool (see `pool.setTarget`): limits on this host only. */
  readonly targets?: Readonly<Record<string, number>>;
  /** How the host names itself in `corral queue info`. @default `hostname:pid` */
  readonly name?: string;
  /** Used if the queue does not exist yet. */
  readonly queue?: QueueConfig;
  /** Aborting it drains the host (like {@link Host.drain}). */
  readonly signal?: AbortSignal;
}

/**
 * Starts a host: loads the module on a local pool, then serves the queue. Resolves once it
 * takes jobs; rejects (having taken none) if the module cannot load (`ERR_MODULE_LOAD`,
 * `ERR_MODULE_NOT_FOUND`, `ERR_WORKER_INIT`) or the queue cannot be set up.
 *
 * @example
 * ```ts
 * const nc = await connect({ servers: process.env.NATS_URL });
 * const host = await serve(nc, 'thumbnails', { module: './resize.js', threads: 4 });
 * process.once('SIGTERM', () => void host.drain());
 * await host.closed();
 * ```
 */
export async function serve(
  nc: NatsConnection,
  queue: string,
  options: ServeOptions,
): Promise<Host> {
  const layout = queueLayout(queue);
  const { targets, name, queue: queueConfig, signal, ...poolOptions } = options;
  const config = resolveQueueConfig(queueConfig);
  const pool = new Pool(poolOptions);
  try {
    await pool.ready();
    for (const [key, target] of Object.entries(targets ?? {})) pool.setTarget(key, target);
    const tasks = await pool.tasks();
    const js = jetstream(nc);
    const jsm = await js.jetstreamManager(false);
    const { ackWait } = await ensureQueue(jsm, layout, config);
    const consumer = await js.consumers.get(layout.jobsStream, HOSTS_CONSUMER);
    const host = new Host({
      nc,
      jsm,
      layout,
      pool,
      tasks,
      ackWait,
      config,
      name: name ?? holderName(),
      threads: pool.stats().threads,
      slots: (poolOptions.threads ?? pool.stats().threads) * (poolOptions.concurrency ?? 1),
      consumer,
    });
    if (signal !== undefined) {
      if (signal.aborted) void host.drain();
      else signal.addEventListener('abort', () => void host.drain(), { once: true });
    }
    return host;
  } catch (error) {
    await pool.shutdown({ force: true });
    throw error;
  }
}

/**
 * `corral map ... --queue NAME`: the records run on the hosts serving a work queue instead
 * of a local pool. The rest of `corral map` (input, output, progress, signals, exit codes)
 * is the same: it sees an `Executor`, local or remote.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { InvalidOptionError, UnknownTaskError, type Executor } from '../index.js';
import { connectNats } from '../nats/shared/connect.js';
import { isNatsClientMissing, NatsClientMissingError } from '../nats/shared/errors.js';
import type { QueueTarget } from '../dashboard/index.js';

/** What a remote `corral map` needs of its options. */
export interface RemoteMapOptions {
  readonly queue: string;
  readonly server: string | undefined;
  readonly task: string;
  readonly threads: number | undefined;
  readonly maxTries: number | undefined;
  readonly timeout: number | undefined;
  readonly targets: ReadonlyMap<string, number>;
}

/** A started remote executor, and the threads to size the run's window by. */
export interface RemoteExecutor {
  readonly pool: Executor & AsyncDisposable;
  readonly threads: number;
  /** What `--dashboard` watches: the queue, with this client's batch. */
  readonly target: QueueTarget;
}

/**
 * Connects, sets the queue up and checks the task against the hosts serving it (if any
 * serve it yet: with none, records wait for the first). Threads are `--threads`, else the
 * hosts' threads, else this machine's cores. Disposing the pool shuts it down and closes
 * the connection.
 */
export async function startRemote(options: RemoteMapOptions): Promise<RemoteExecutor> {
  if (options.targets.size > 0) {
    throw new InvalidOptionError(
      'target',
      'unset with --queue (targets belong to the hosts: corral serve --target or --governor)',
      [...options.targets.keys()].join(', '),
    );
  }
  const nats = await import('../nats/index.js').catch((error: unknown) => {
    throw isNatsClientMissing(error) ? new NatsClientMissingError({ cause: error }) : error;
  });
  const nc = await connectNats({
    server: options.server,
    options: { timeout: 5000, maxReconnectAttempts: -1, reconnectTimeWait: 250 },
  });
  const remote = new nats.RemotePool(nc, options.queue, {
    ...(options.maxTries === undefined ? {} : { maxTries: options.maxTries }),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
  });
  const close = async (): Promise<void> => {
    await remote.shutdown();
    await nc.close().catch(() => undefined);
  };
  try {
    await remote.ready();
    const { hosts } = await nats.queueInfo(nc, options.queue);
    const serving = hosts.filter((h) => !h.draining);
    const known = [...new Set(serving.flatMap((h) => h.tasks))].sort();
    if (serving.length > 0 && !known.includes(options.task)) {
      throw new UnknownTaskError(options.task, known);
    }
    const hostThreads = serving.reduce((sum, h) => sum + h.threads, 0);
    const threads = options.threads ?? (hostThreads > 0 ? hostThreads : availableParallelism());
    const pool: Executor & AsyncDisposable = {
      do: (input, jobOptions) => remote.do(input, jobOptions),
      execute: (inputs, streamOptions) => remote.execute(inputs, streamOptions),
      wrap: (source, streamOptions) => remote.wrap(source, streamOptions),
      shutdown: (shutdownOptions) => remote.shutdown(shutdownOptions),
      stats: () => remote.stats(),
      [Symbol.asyncDispose]: close,
    };
    return { pool, threads, target: { nc, queue: options.queue, client: remote } };
  } catch (error) {
    await close();
    throw error;
  }
}

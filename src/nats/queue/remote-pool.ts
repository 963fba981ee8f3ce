/**
 * `RemotePool`: the client of a work queue, with the API of a local `Pool`.
 *
 * @module
 */
import {
  InvalidOptionError,
  type Executor,
  type ExecutorJobOptions,
  type ExecutorStreamOptions,
  type Outcome,
} from '../../index.js';
import type { NatsConnection } from '../shared/connection.js';
import { QueueClient, type ClientState, type RemotePoolStats } from './client.js';
import { queueLayout, resolveQueueConfig, type QueueConfig } from './layout.js';
import { checkInteger } from '../../util/validate.js';
import { checkRemoteJobOptions, RemoteJob, type JobDefaults } from './remote-job.js';
import { RemoteStream } from './remote-stream.js';

/** Options of a {@link RemotePool}. */
export interface RemotePoolOptions {
  /**
   * How many times a job may be started: a job whose host was lost (or whose thread died,
   * or that threw `retryable()`) is started again while it has tries left.
   * @default 1
   */
  readonly maxTries?: number;
  /**
   * Default time limit per job in ms; 0 for none. Remotely it counts from submission: time
   * waiting in the queue counts too (a client cannot tell a job waiting for a host from one
   * running on a host), and the host applies it to each try as a local pool does, replacing
   * the thread of a job that overruns it.
   * @default 0
   */
  readonly timeout?: number;
  /** Used if the queue does not exist yet (its streams and consumer are made on first use). */
  readonly queue?: QueueConfig;
}

/** `wrap`'s default window: inputs taken and not yet yielded, across the cluster. */
const WRAP_WINDOW = 4096;
/** `execute`'s default window. */
const EXECUTE_WINDOW = 16_384;

/**
 * Runs jobs on the hosts serving a queue (`corral serve MODULE --queue NAME`, or
 * {@link serve}), with the same `do`, `execute`, `wrap`, `shutdown` and outcomes as a local
 * `Pool`. Jobs sent while no host runs wait in the queue (honouring their `timeout` and
 * `signal`); every job settles exactly once.
 *
 * It does not own the connection: close it after `shutdown()`.
 *
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node';
 * import { RemotePool } from 'corral/nats';
 *
 * const nc = await connect({ servers: process.env.NATS_URL });
 * await using pool = new RemotePool(nc, 'thumbnails', { maxTries: 3 });
 * for await (const o of pool.wrap(files, { task: 'resize' })) if (!o.ok) console.error(o.error);
 * ```
 */
export class RemotePool implements Executor<RemotePoolStats>, AsyncDisposable {
  /** The queue's name. */
  readonly queue: string;
  readonly #client: QueueClient;
  readonly #defaults: JobDefaults;

  /**
   * Sets the queue up in the background (creating its streams if missing) and starts
   * reading results. Throws `ERR_INVALID_OPTION` at once for a bad name or option.
   */
  constructor(nc: NatsConnection, queue: string, options: RemotePoolOptions = {}) {
    const layout = queueLayout(queue);
    const given: unknown = options;
    if (typeof given !== 'object' || given === null) {
      throw new InvalidOptionError('options', 'an object', given);
    }
    for (const [name, value] of Object.entries(given)) {
      if (name !== 'maxTries' && name !== 'timeout' && name !== 'queue') {
        throw new InvalidOptionError(name, 'a known option', value);
      }
    }
    this.#defaults = {
      maxTries: checkInteger('maxTries', options.maxTries ?? 1, 1),
      timeout: checkInteger('timeout', options.timeout ?? 0, 0),
    };
    this.queue = queue;
    this.#client = new QueueClient(nc, layout, resolveQueueConfig(options.queue));
  }

  /** This client's id: its results subject and consumer carry it. */
  get id(): string {
    return this.#client.id;
  }

  /** `running`, `closing` or `closed`. */
  get state(): ClientState {
    return this.#client.state;
  }

  /**
   * Resolves once the queue is set up; rejects with `ERR_QUEUE_SETUP` if it cannot be
   * (jobs then reject with the same error). Jobs may be sent before.
   */
  ready(): Promise<void> {
    return this.#client.ready();
  }

  /**
   * Runs one job on some host. Rejects with the same errors as a local pool (`ERR_UNKNOWN_TASK`,
   * `ERR_JOB_TIMEOUT`, `ERR_WORKER_CRASHED`, what the task threw, an `AbortError`, ...), and
   * `ERR_HOST_LOST`, `ERR_PAYLOAD_TOO_LARGE`, `ERR_QUEUE_CONNECTION_CLOSED`. Called while an
   * OpenTelemetry span is active, the job is traced from here to the task's thread on the
   * host (see docs/observability.md).
   *
   * @example
   * ```ts
   * const n = await pool.do<number>(30, { task: 'fib', timeout: 5_000 });
   * ```
   */
  do<R = unknown>(input: unknown, options?: ExecutorJobOptions): Promise<R> {
    let job: RemoteJob;
    try {
      job = new RemoteJob(
        this.#client.nextId(),
        input,
        checkRemoteJobOptions(options),
        this.#defaults,
      );
    } catch (error) {
      // checkRemoteJobOptions throws only CorralErrors.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
    const promise = job.promise() as Promise<R>;
    this.#client.submit(job);
    return promise;
  }

  /**
   * Runs a batch across the hosts; yields each outcome in completion order (input order with
   * `ordered`). At most `window` inputs (default 16,384) are out at once.
   */
  execute<I = unknown, R = unknown>(
    inputs: Iterable<I>,
    options?: ExecutorStreamOptions<I>,
  ): AsyncIterableIterator<Outcome<I, R>> {
    return new RemoteStream<I, R>(this.#client, this.#defaults, inputs, options, EXECUTE_WINDOW);
  }

  /**
   * Runs a stream across the hosts, taking inputs only as fast as they are done: at most
   * `window` (default 4,096) taken and not yet yielded, wherever they are in the cluster.
   * Leaving the loop early gives up the jobs still out (hosts are told; results that come
   * anyway are dropped).
   */
  wrap<I = unknown, R = unknown>(
    source: AsyncIterable<I> | Iterable<I>,
    options?: ExecutorStreamOptions<I>,
  ): AsyncIterableIterator<Outcome<I, R>> {
    return new RemoteStream<I, R>(this.#client, this.#defaults, source, options, WRAP_WINDOW);
  }

  /** Counters of this client. */
  stats(): RemotePoolStats {
    return this.#client.stats();
  }

  /**
   * Stops the client. Graceful by default: new jobs reject with `ERR_POOL_CLOSED`, and it
   * waits for every job out to settle. With `force`, jobs out reject with `ERR_POOL_CLOSED`
   * at once and hosts are told to drop them. Then removes this client's results consumer.
   * Idempotent.
   */
  shutdown(options?: { force?: boolean }): Promise<void> {
    return this.#client.shutdown(options?.force === true);
  }

  /** `await using pool = new RemotePool(...)` shuts it down gracefully at scope exit. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

/**
 * `execute` and `wrap` of a `RemotePool`: inputs in, outcomes out, with at most `window`
 * inputs taken from the source and not yet handed to the consumer, wherever in the cluster
 * they are (in the outbox, in the stream, on a host, in a result on its way back).
 *
 * Like the local pool's stream, except when it is left early (`break`) or aborted: a local
 * pool waits for its running jobs, but a client cannot tell a job waiting in the queue from
 * one running on a host, so every unsettled job is given up at once (see the outbox) and
 * the stream ends without waiting for hosts.
 *
 * Everything else is common to both and lives in `StreamCore`: here is only how an input
 * goes out as a job on the queue, and how jobs are given up.
 *
 * @module
 */
import type { AbortError, ExecutorStreamOptions } from '../../index.js';
import { StreamCore } from '../../pool/stream-core.js';
import type { QueueClient } from './client.js';
import {
  checkRemoteJobOptions,
  checkRemoteKey,
  RemoteJob,
  type JobDefaults,
  type RemoteJobOwner,
} from './remote-job.js';

export class RemoteStream<I, R> extends StreamCore<I, R> implements RemoteJobOwner {
  readonly #client: QueueClient;
  readonly #defaults: JobDefaults;
  readonly #jobOptions: { task?: string; timeout?: number; maxTries?: number };

  constructor(
    client: QueueClient,
    defaults: JobDefaults,
    source: Iterable<I> | AsyncIterable<I>,
    options: ExecutorStreamOptions<I> | undefined,
    defaultWindow: number,
  ) {
    const { ordered, window, signal, key, ...rest } = options ?? {};
    const jobOptions = checkRemoteJobOptions(rest);
    super(
      source,
      { ordered, window, signal, key },
      {
        sourceName: 'inputs',
        window: defaultWindow,
        checkKey: checkRemoteKey,
        // Every job is given up on return(), none is left running to wait for.
        waitOnReturn: false,
      },
    );
    this.#client = client;
    this.#defaults = defaults;
    this.#jobOptions = jobOptions;
    this.start();
  }

  protected take(input: I, index: number, key: string | undefined): void {
    const job = new RemoteJob(this.#client.nextId(), input, this.#jobOptions, this.#defaults, {
      owner: this,
      index,
      key,
    });
    this.#client.submit(job);
  }

  /** A client cannot tell a job waiting in the queue from a running one: all are given up. */
  protected cancel(error: AbortError): void {
    this.#client.abandonOwned(this, error);
  }

  settled(job: RemoteJob, ok: boolean, value: unknown): void {
    this.outcome(job.index, job.input as I, ok, value);
  }
}

/**
 * What a queue holds now, read from JetStream: the hosts' consumer (pending, claimed,
 * redelivered messages), the streams, and the hosts' presence records.
 *
 * @module
 */
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '../shared/connection.js';
import { UnknownQueueError } from './errors.js';
import { HOSTS_CONSUMER, isMissing, queueLayout } from './layout.js';
import { readPresence, type HostPresence } from './presence.js';

/** A queue's state, from {@link queueInfo}. Counts are of job messages (each holds one or more jobs). */
export interface QueueInfo {
  readonly queue: string;
  /** Job messages no host has taken yet. */
  readonly pending: number;
  /** Job messages taken by a host and not yet acked (running, or held by a host that died). */
  readonly inFlight: number;
  /** Of those, messages delivered more than once (their first host was lost). */
  readonly redelivered: number;
  /** Pull requests of hosts waiting for work. */
  readonly waitingPulls: number;
  /** The queue's ack wait, in ms. */
  readonly ackWait: number;
  /** Copies of the job stream. */
  readonly replicas: number;
  /**
   * Result messages stored and not yet removed: not yet read by their clients, or read and
   * not yet purged (a client purges what it acked every 2 s at most; on a queue made before
   * results were acked in batches, a result leaves as it is read).
   */
  readonly results: number;
  /** Hosts whose presence record is current, oldest first. */
  readonly hosts: readonly HostPresence[];
}

/**
 * Reads a queue's state. Rejects with `ERR_UNKNOWN_QUEUE` if the queue was never set up.
 *
 * @example
 * ```ts
 * const { pending, inFlight, hosts } = await queueInfo(nc, 'thumbnails');
 * ```
 */
export async function queueInfo(nc: NatsConnection, queue: string): Promise<QueueInfo> {
  const layout = queueLayout(queue);
  const jsm = await jetstream(nc).jetstreamManager(false);
  try {
    const [consumer, jobs, results] = await Promise.all([
      jsm.consumers.info(layout.jobsStream, HOSTS_CONSUMER),
      jsm.streams.info(layout.jobsStream),
      jsm.streams.info(layout.resultsStream),
    ]);
    const hosts = await readPresence(jsm, layout).catch(() => []);
    return {
      queue,
      pending: consumer.num_pending,
      inFlight: consumer.num_ack_pending,
      redelivered: consumer.num_redelivered,
      waitingPulls: consumer.num_waiting,
      ackWait: Math.round((consumer.config.ack_wait ?? 0) / 1_000_000),
      replicas: jobs.config.num_replicas,
      results: results.state.messages,
      hosts,
    };
  } catch (error) {
    if (isMissing(error)) throw new UnknownQueueError(queue, { cause: error });
    throw error;
  }
}

/**
 * One queue as JetStream sees it: its streams, subjects and consumers, and setting them up.
 *
 * - `CORRAL_QUEUE_<name>` (work-queue retention, file storage) holds job messages on
 *   `corral.queue.<name>.jobs`. A message leaves it when a host acks it.
 * - One durable pull consumer, `hosts`, is shared by every host: explicit acks, a short
 *   `ack_wait` that hosts keep alive with in-progress acks while jobs run, unlimited
 *   deliveries (hosts read the delivery count and decide what a redelivery costs).
 * - `CORRAL_RESULTS_<name>` (limits retention, file storage, `max_age` of the result TTL)
 *   holds results on `corral.queue.<name>.results.<client id>`, one subject per client,
 *   each read by that client's own durable consumer `client-<id>` (`client-<id>-<n>` once
 *   remade, see {@link QueueLayout.clientConsumer}). Limits retention lets that consumer ack
 *   all results up to one with a single ack (a work-queue stream takes explicit acks only;
 *   an interest one dropped results stored across a nats-server 2.9 restart); the client
 *   purges its subject up to what it acked, every 2 s at most. A results stream made by
 *   an older version keeps work-queue retention, and its clients ack each result.
 * - `CORRAL_HOSTS_<name>` (limits retention, file storage, one message per subject, short
 *   `max_age`) holds each live host's presence, for `corral queue info` and task checks.
 * - `CORRAL_STARTED_<name>` (limits retention, file storage, one message per subject,
 *   `max_age` of the result TTL) holds each job message's started mark on
 *   `corral.queue.<name>.started.<stream sequence>`: the tries charged to each of its jobs,
 *   written by the host before it starts them, read by the next host after a redelivery,
 *   and written with the sequence last read so that two hosts never both start them.
 * - `corral.queue.<name>.cancel` is a plain NATS subject: clients tell hosts which jobs
 *   they gave up (best effort: a job already finished is unaffected).
 *
 * @module
 */
import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { InvalidOptionError } from '../../index.js';
import { apiCode } from '../shared/jetstream-errors.js';
import { QueueSetupError } from './errors.js';

/** Every subject of a queue starts with this. */
export const SUBJECT_PREFIX = 'corral.queue';
/** The consumer all hosts share. */
export const HOSTS_CONSUMER = 'hosts';
/** How long a host's presence lasts without being rewritten, in ms. */
export const PRESENCE_TTL = 10_000;

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** JetStream API codes met while setting up. */
const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10058;
const CONSUMER_NOT_FOUND = 10014;
const WRONG_LAST_SEQUENCE = 10071;

/** How a queue is created. An existing queue keeps its configuration. */
export interface QueueConfig {
  /**
   * How long a host's claim on a job message lasts without an in-progress ack, in ms: a
   * host that dies puts its jobs back after this long. Hosts renew their claims every
   * third of it while jobs run, so it does not bound how long a job may run.
   * @default 5000
   */
  readonly ackWait?: number;
  /**
   * Copies of each stream in a JetStream cluster (1, 3 or 5).
   * @default 1
   */
  readonly replicas?: number;
  /**
   * How long a result waits for its client, in ms: results of a client that never comes
   * back are deleted after this long, and so is its consumer once idle that long.
   * @default 3_600_000 (1 hour)
   */
  readonly resultTtl?: number;
}

/** {@link QueueConfig} with the defaults applied. */
export interface ResolvedQueueConfig {
  readonly ackWait: number;
  readonly replicas: number;
  readonly resultTtl: number;
}

/** Names and subjects of one queue. */
export interface QueueLayout {
  readonly queue: string;
  readonly jobsStream: string;
  readonly resultsStream: string;
  readonly hostsStream: string;
  readonly startedStream: string;
  readonly jobsSubject: string;
  readonly cancelSubject: string;
  /** The subject of one client's results. */
  resultsSubject(clientId: string): string;
  /** The subject of one host's presence. */
  hostSubject(hostId: string): string;
  /** The subject of one job message's started mark (`'*'` for all). */
  startedSubject(seq: number | '*'): string;
  /**
   * The name of one client's results consumer: generation 0 is `client-<id>`; a client
   * that remakes its consumer (it missed a delivery, see result-acks.ts) counts on.
   */
  clientConsumer(clientId: string, generation?: number): string;
}

/** Throws {@link InvalidOptionError} unless `name` can name a queue. */
export function checkQueueName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidOptionError('queue', 'a queue name of 1-64 letters, digits, - or _', name);
  }
}

/** The names and subjects of queue `queue`. */
export function queueLayout(queue: string): QueueLayout {
  checkQueueName(queue);
  const base = `${SUBJECT_PREFIX}.${queue}`;
  return {
    queue,
    jobsStream: `CORRAL_QUEUE_${queue}`,
    resultsStream: `CORRAL_RESULTS_${queue}`,
    hostsStream: `CORRAL_HOSTS_${queue}`,
    startedStream: `CORRAL_STARTED_${queue}`,
    jobsSubject: `${base}.jobs`,
    cancelSubject: `${base}.cancel`,
    resultsSubject: (clientId) => `${base}.results.${clientId}`,
    hostSubject: (hostId) => `${base}.hosts.${hostId}`,
    startedSubject: (seq) => `${base}.started.${seq}`,
    clientConsumer: (clientId, generation = 0) =>
      generation === 0 ? `client-${clientId}` : `client-${clientId}-${generation}`,
  };
}

function checkMs(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidOptionError(option, `an integer >= ${min} (ms)`, value);
  }
  return value;
}

/** Validates a {@link QueueConfig} and fills in the defaults. */
export function resolveQueueConfig(config: QueueConfig | undefined): ResolvedQueueConfig {
  const c = config ?? {};
  const replicas = c.replicas ?? 1;
  if (replicas !== 1 && replicas !== 3 && replicas !== 5) {
    throw new InvalidOptionError('replicas', '1, 3 or 5', replicas);
  }
  return {
    ackWait: checkMs('ackWait', c.ackWait ?? 5000, 1000),
    replicas,
    resultTtl: checkMs('resultTtl', c.resultTtl ?? 3_600_000, 60_000),
  };
}

const NS = 1_000_000;

type NamedStreamConfig = Partial<StreamConfig> & { name: string };

function streamConfigs(layout: QueueLayout, config: ResolvedQueueConfig): NamedStreamConfig[] {
  return [
    {
      name: layout.jobsStream,
      subjects: [layout.jobsSubject],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: config.replicas,
    },
    {
      name: layout.resultsStream,
      subjects: [layout.resultsSubject('*')],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: config.replicas,
      max_age: config.resultTtl * NS,
      duplicate_window: Math.min(config.resultTtl, 120_000) * NS,
    },
    {
      name: layout.hostsStream,
      subjects: [layout.hostSubject('*')],
      retention: RetentionPolicy.Limits,
      // Memory storage would drop every host's record in a server restart.
      storage: StorageType.File,
      num_replicas: config.replicas,
      max_msgs_per_subject: 1,
      max_age: PRESENCE_TTL * NS,
      duplicate_window: PRESENCE_TTL * NS,
    },
    {
      name: layout.startedStream,
      subjects: [layout.startedSubject('*')],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: config.replicas,
      max_msgs_per_subject: 1,
      max_age: config.resultTtl * NS,
      duplicate_window: Math.min(config.resultTtl, 120_000) * NS,
    },
  ];
}

/** The consumer every host pulls jobs from. */
function hostsConsumerConfig(config: ResolvedQueueConfig): Partial<ConsumerConfig> {
  return {
    durable_name: HOSTS_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: config.ackWait * NS,
    // Hosts count deliveries themselves (a job's maxTries): the server never gives up on one.
    max_deliver: -1,
    // Hosts bound their own claims; this bounds them all together, in messages.
    max_ack_pending: 10_000,
    max_waiting: 4096,
  };
}

/**
 * The consumer one client reads its results from: `ackAll` (an ack covers every result
 * before it) where the results stream allows it, explicit acks on a work-queue stream;
 * from stream sequence `after + 1` on (all results when 0).
 */
export function clientConsumerConfig(
  layout: QueueLayout,
  clientId: string,
  options: { resultTtl: number; ackAll: boolean; generation: number; after: number },
): Partial<ConsumerConfig> {
  const start =
    options.after > 0
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: options.after + 1 }
      : { deliver_policy: DeliverPolicy.All };
  return {
    durable_name: layout.clientConsumer(clientId, options.generation),
    filter_subject: layout.resultsSubject(clientId),
    ack_policy: options.ackAll ? AckPolicy.All : AckPolicy.Explicit,
    ...start,
    ack_wait: 30_000 * NS,
    max_deliver: -1,
    max_ack_pending: 10_000,
    inactive_threshold: options.resultTtl * NS,
  };
}

/** What {@link ensureQueue} found the queue to be. */
export interface QueueFacts {
  /** The ack wait of the hosts' consumer, in ms. */
  readonly ackWait: number;
  /**
   * Whether clients' results consumers may ack all results up to one at once: not on a
   * results stream of work-queue retention, as older versions made it.
   */
  readonly resultsAckAll: boolean;
}

/**
 * Creates the queue's streams and its hosts' consumer where they are missing; existing ones
 * are kept as they are. Resolves to what the queue really is.
 */
export async function ensureQueue(
  jsm: JetStreamManager,
  layout: QueueLayout,
  config: ResolvedQueueConfig,
): Promise<QueueFacts> {
  try {
    let resultsAckAll = true;
    for (const stream of streamConfigs(layout, config)) {
      const retention = await ensureStream(jsm, stream);
      if (stream.name === layout.resultsStream) {
        resultsAckAll = retention !== RetentionPolicy.Workqueue;
      }
    }
    let info;
    try {
      info = await jsm.consumers.info(layout.jobsStream, HOSTS_CONSUMER);
    } catch (error) {
      if (apiCode(error) !== CONSUMER_NOT_FOUND) throw error;
      info = await jsm.consumers.add(layout.jobsStream, hostsConsumerConfig(config));
    }
    return {
      ackWait: Math.round((info.config.ack_wait ?? config.ackWait * NS) / NS),
      resultsAckAll,
    };
  } catch (error) {
    throw new QueueSetupError(layout.queue, { cause: error });
  }
}

/** Creates a stream unless it exists; resolves to the retention it really has. */
async function ensureStream(
  jsm: JetStreamManager,
  stream: NamedStreamConfig,
): Promise<RetentionPolicy> {
  try {
    return (await jsm.streams.info(stream.name)).config.retention;
  } catch (error) {
    if (apiCode(error) !== STREAM_NOT_FOUND) throw error;
  }
  try {
    return (await jsm.streams.add(stream)).config.retention;
  } catch (error) {
    // Someone else created it meanwhile, perhaps with another configuration: theirs stands.
    if (apiCode(error) !== STREAM_NAME_IN_USE) throw error;
    return (await jsm.streams.info(stream.name)).config.retention;
  }
}

/** Whether `error` says a stream or consumer of the queue is missing. */
export function isMissing(error: unknown): boolean {
  const code = apiCode(error);
  return code === STREAM_NOT_FOUND || code === CONSUMER_NOT_FOUND;
}

/** Whether `error` says a publish expected another last sequence (another host wrote first). */
export function isWrongLastSequence(error: unknown): boolean {
  return apiCode(error) === WRONG_LAST_SEQUENCE;
}

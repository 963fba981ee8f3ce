/**
 * One governor as JetStream sees it: the stream `GOVERNOR_<name>`, its subjects, its
 * configuration, and the few requests the governor and its manager make. Everything that
 * knows JetStream's shapes lives here; the rest speaks in governors, entries and slots.
 *
 * Layout: stream `GOVERNOR_<name>` captures `corral.governor.<name>.*`, one subject per
 * campaign (`corral.governor.<name>.<campaign id>`), with `max_msgs_per_subject = 1`. Each
 * holder's entry is the single message on its own subject, so re-publishing to that subject
 * replaces the entry (a refresh) instead of adding one, and is accepted even when the
 * stream is full.
 *
 * @module
 */
import {
  DiscardPolicy,
  jetstream,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type PubAck,
  type SeqMsgRequest,
  type StoredMsg,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { InvalidOptionError } from '../util/errors.js';
import { UnknownGovernorError } from './errors.js';
import { apiCode, ApiCode, isNoResponders } from './jetstream-errors.js';

/**
 * A connection to NATS, from any transport (`@nats-io/transport-node`, WebSockets, Deno).
 * Derived from `jetstream()` so the governor depends on `@nats-io/jetstream` only.
 */
export type NatsConnection = Parameters<typeof jetstream>[0];

/** Names the stream of every governor starts with, as in choria's governor. */
export const STREAM_PREFIX = 'GOVERNOR_';
/** Subjects of every governor start with this. */
export const SUBJECT_PREFIX = 'corral.governor';

/** The longest window in which a repeated message id is recognised, in ms. */
const DUPLICATE_WINDOW = 120_000;

const NAME = /^[A-Za-z0-9_-]{1,200}$/;

/** Throws {@link InvalidOptionError} unless `name` can name a stream and a subject token. */
export function validateGovernorName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidOptionError('name', 'a governor name of 1-200 letters, digits, - or _', name);
  }
}

/** What an entry carries: who holds the slot and since when (by the holder's clock). */
export interface EntryPayload {
  readonly name: string;
  /** Epoch ms of the grant, carried by refreshes so the age survives them. */
  readonly granted?: number;
}

/** Decodes an entry written by this module, or by anyone who stored a bare name. */
export function decodeEntry(message: StoredMsg): EntryPayload {
  const text = message.string();
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && 'name' in value) {
      const { name, granted } = value as { name: unknown; granted?: unknown };
      if (typeof name === 'string') {
        return typeof granted === 'number' ? { name, granted } : { name };
      }
    }
  } catch {
    // Not JSON: a bare name.
  }
  return { name: text };
}

/** The stream configuration of a governor. */
export function streamConfig(
  governor: string,
  limit: number,
  maxAge: number,
  replicas: number,
): Pick<
  StreamConfig,
  | 'name'
  | 'subjects'
  | 'retention'
  | 'storage'
  | 'discard'
  | 'max_msgs'
  | 'max_msgs_per_subject'
  | 'max_age'
  | 'num_replicas'
  | 'duplicate_window'
> {
  return {
    name: STREAM_PREFIX + governor,
    subjects: [`${SUBJECT_PREFIX}.${governor}.*`],
    retention: RetentionPolicy.Limits,
    // Memory storage would forget every slot on a restart and over-admit.
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_msgs: limit,
    max_msgs_per_subject: 1,
    max_age: maxAge * 1_000_000,
    num_replicas: replicas,
    // The server's default, but stated: it must shrink with max_age, or an update fails.
    duplicate_window: Math.min(maxAge, DUPLICATE_WINDOW) * 1_000_000,
  };
}

/** Whether `info` describes a governor's stream (and not another stream with the prefix). */
export function isGovernorStream(info: StreamInfo): boolean {
  const { name, subjects } = info.config;
  if (!name.startsWith(STREAM_PREFIX)) return false;
  const governor = name.slice(STREAM_PREFIX.length);
  return subjects.length === 1 && subjects[0] === `${SUBJECT_PREFIX}.${governor}.*`;
}

/** JetStream requests about one governor, with its errors translated. */
export class GovernorStream {
  /** The governor's name. */
  readonly governor: string;
  /** The stream's name, `GOVERNOR_<governor>`. */
  readonly stream: string;
  /** Publishes entries. */
  readonly #js: JetStreamClient;
  /** Manages the stream and its messages; made on first use. */
  #jsm: Promise<JetStreamManager> | undefined;

  constructor(nc: NatsConnection, governor: string, timeout?: number) {
    validateGovernorName(governor);
    this.governor = governor;
    this.stream = STREAM_PREFIX + governor;
    this.#js = jetstream(nc, timeout === undefined ? {} : { timeout });
  }

  /** The JetStream manager, without the account check that would cost a request. */
  manager(): Promise<JetStreamManager> {
    this.#jsm ??= this.#js.jetstreamManager(false);
    return this.#jsm;
  }

  /** The subject of the campaign `id`. */
  subject(id: string): string {
    return `${SUBJECT_PREFIX}.${this.governor}.${id}`;
  }

  /**
   * Runs a request on the stream with the JetStream manager, turning "stream not found"
   * into {@link UnknownGovernorError}.
   */
  async call<T>(request: (jsm: JetStreamManager, stream: string) => Promise<T>): Promise<T> {
    const jsm = await this.manager();
    return request(jsm, this.stream).catch((error: unknown) => this.#translate(error));
  }

  /** The stream's configuration and state. */
  info(): Promise<StreamInfo> {
    return this.call((jsm, stream) => jsm.streams.info(stream));
  }

  /**
   * Writes the entry of campaign `id`. `expectSeq` makes it a refresh: the server refuses
   * it (10071) unless the subject's last entry is still `expectSeq`, so a slot that lost
   * its entry can never quietly take a new one.
   */
  async publish(
    id: string,
    payload: EntryPayload,
    msgID: string,
    expectSeq?: number,
  ): Promise<PubAck> {
    try {
      return await this.#js.publish(this.subject(id), JSON.stringify(payload), {
        msgID,
        expect:
          expectSeq === undefined
            ? { streamName: this.stream }
            : { streamName: this.stream, lastSubjectSequence: expectSeq },
      });
    } catch (error) {
      if (isNoResponders(error)) await this.info(); // throws UnknownGovernorError if it is gone
      throw error;
    }
  }

  /** Removes the entry of campaign `id`, whatever its sequence; resolves to how many were removed. */
  async purgeEntry(id: string): Promise<number> {
    const filter = this.subject(id);
    const { purged } = await this.call((jsm, stream) => jsm.streams.purge(stream, { filter }));
    return purged;
  }

  /** The entry at `seq`, or `null` if there is none. */
  message(seq: number): Promise<StoredMsg | null> {
    return this.call((jsm, stream) => jsm.streams.getMessage(stream, { seq }));
  }

  /** The first entry at or after `seq`, or `null` past the last one. */
  nextMessage(seq: number): Promise<StoredMsg | null> {
    // The server (2.9+) takes next_by_subj on STREAM.MSG.GET; the client's type only lists
    // it for direct gets, which would need allow_direct on the stream.
    const query: SeqMsgRequest & { next_by_subj: string } = {
      seq,
      next_by_subj: `${SUBJECT_PREFIX}.${this.governor}.*`,
    };
    return this.call((jsm, stream) => jsm.streams.getMessage(stream, query));
  }

  /** Rethrows `error`, as {@link UnknownGovernorError} if it says the stream does not exist. */
  #translate(error: unknown): never {
    if (apiCode(error) === ApiCode.StreamNotFound) {
      throw new UnknownGovernorError(this.governor, { cause: error });
    }
    throw error;
  }
}

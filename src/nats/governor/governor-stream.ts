/**
 * One governor as JetStream sees it: the stream `GOVERNOR_<name>`, its subjects, its
 * configuration, and the few requests the governor and its manager make. Everything that
 * knows JetStream's shapes lives here; the rest speaks in governors, entries and slots.
 *
 * Layout: stream `GOVERNOR_<name>` captures `<subject>.*` (by default
 * `corral.governor.<name>.*`), one subject per campaign (`<subject>.<campaign id>`), with
 * `max_msgs_per_subject = 1`. Each holder's entry is the single message on its own subject,
 * so re-publishing to that subject replaces the entry (a refresh) instead of adding one, and
 * is accepted even when the stream is full. The stream's description marks it as a governor,
 * so one with a custom subject is told apart from other streams named `GOVERNOR_*`.
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
import { InvalidOptionError } from '../../util/errors.js';
import { UnknownGovernorError } from './errors.js';
import { apiCode, ApiCode, isNoResponders } from '../shared/jetstream-errors.js';
import type { NatsConnection } from '../shared/connection.js';
import { untilReconnect } from '../shared/reconnects.js';

/** Names the stream of every governor starts with, as in choria's governor. */
export const STREAM_PREFIX = 'GOVERNOR_';
/** The description of every governor's stream starts with this: how a governor is recognised. */
const DESCRIPTION = 'corral governor';

/** The longest window in which a repeated message id is recognised, in ms. */
const DUPLICATE_WINDOW = 120_000;

const NAME = /^[A-Za-z0-9_-]{1,200}$/;

/** Tokens without wildcards or spaces, joined by dots. */
const SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;

/** Throws {@link InvalidOptionError} unless `name` can name a stream and a subject token. */
function validateGovernorName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidOptionError('name', 'a governor name of 1-200 letters, digits, - or _', name);
  }
}

/** The subject under which a governor's entries live unless it was created with another. */
export function defaultSubject(governor: string): string {
  return `corral.governor.${governor}`;
}

/** Throws {@link InvalidOptionError} unless `subject` can prefix the subjects of entries. */
export function validateSubject(subject: unknown): asserts subject is string {
  if (typeof subject !== 'string' || subject.length > 200 || !SUBJECT.test(subject)) {
    throw new InvalidOptionError(
      'subject',
      'a NATS subject of up to 200 characters without wildcards or spaces (e.g. jobs.deploys)',
      subject,
    );
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

/** The stream configuration of a governor whose entries live under `subject`. */
export function streamConfig(
  governor: string,
  limit: number,
  maxAge: number,
  replicas: number,
  subject = defaultSubject(governor),
): Pick<
  StreamConfig,
  | 'name'
  | 'description'
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
    description: `${DESCRIPTION} ${governor}`,
    subjects: [`${subject}.*`],
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

/**
 * The subject under which the entries of the governor `info` describes live, or `undefined`
 * if `info` describes another stream named `GOVERNOR_*`. Streams made before governors had
 * a description are recognised by their default subject.
 */
export function governorSubject(info: StreamInfo): string | undefined {
  const { name, subjects, description } = info.config;
  if (!name.startsWith(STREAM_PREFIX) || subjects.length !== 1) return undefined;
  const governor = name.slice(STREAM_PREFIX.length);
  const [pattern = ''] = subjects;
  if (!pattern.endsWith('.*')) return undefined;
  const subject = pattern.slice(0, -2);
  const marked = description === `${DESCRIPTION} ${governor}`;
  return marked || subject === defaultSubject(governor) ? subject : undefined;
}

/** Options of a {@link GovernorStream}. */
export interface StreamOptions {
  /** The default request timeout, in ms; the client's own default if not given. */
  readonly timeout?: number | undefined;
  /**
   * End a request at the connection's next reconnection (see `reconnects.ts`). For the
   * governor's requests, which retry; the manager's would then fail instead of waiting.
   */
  readonly cutOnReconnect?: boolean;
}

/** Options of {@link GovernorStream.publish}. */
export interface PublishOptions {
  /**
   * Makes it a refresh: the server refuses it (10071) unless the subject's last entry is
   * still this one, so a slot that lost its entry can never quietly take a new one.
   */
  readonly expectSeq?: number | undefined;
  /** How long to wait for the reply, in ms. */
  readonly timeout?: number | undefined;
}

/** JetStream requests about one governor, with its errors translated. */
export class GovernorStream {
  /** The governor's name. */
  readonly governor: string;
  /** The stream's name, `GOVERNOR_<governor>`. */
  readonly stream: string;
  /** The connection, watched for reconnections if {@link StreamOptions.cutOnReconnect}. */
  readonly #nc: NatsConnection;
  /** Publishes entries. */
  readonly #js: JetStreamClient;
  /** Whether requests end at a reconnection. */
  readonly #cutOnReconnect: boolean;
  /** Manages the stream and its messages; made on first use. */
  #jsm: Promise<JetStreamManager> | undefined;
  /** Where entries live, as last read from the stream (the default until then). */
  #subject: string;

  constructor(nc: NatsConnection, governor: string, options: StreamOptions = {}) {
    validateGovernorName(governor);
    this.governor = governor;
    this.stream = STREAM_PREFIX + governor;
    this.#nc = nc;
    this.#js = jetstream(nc, options.timeout === undefined ? {} : { timeout: options.timeout });
    this.#cutOnReconnect = options.cutOnReconnect === true;
    this.#subject = defaultSubject(governor);
  }

  /** The subject under which entries live (`<subject>.<campaign id>`), as last read. */
  get subjectPrefix(): string {
    return this.#subject;
  }

  /** The JetStream manager, without the account check that would cost a request. */
  manager(): Promise<JetStreamManager> {
    this.#jsm ??= this.#js.jetstreamManager(false);
    return this.#jsm;
  }

  /** The subject of the campaign `id`. */
  subject(id: string): string {
    return `${this.#subject}.${id}`;
  }

  /**
   * Runs a request on the stream with the JetStream manager, turning "stream not found"
   * into {@link UnknownGovernorError}.
   */
  async call<T>(request: (jsm: JetStreamManager, stream: string) => Promise<T>): Promise<T> {
    const jsm = await this.manager();
    return this.#cut(request(jsm, this.stream), `$JS.API.*.${this.stream}`).catch(
      (error: unknown) => this.#translate(error),
    );
  }

  /**
   * The stream's configuration and state. Remembers the governor's subject if the stream is
   * a governor's; whether it is, {@link governorSubject} tells.
   */
  async info(): Promise<StreamInfo> {
    const info = await this.call((jsm, stream) => jsm.streams.info(stream));
    const subject = governorSubject(info);
    if (subject !== undefined) this.#subject = subject;
    return info;
  }

  /** Writes the entry of campaign `id`, with the message id `msgID`. */
  async publish(
    id: string,
    payload: EntryPayload,
    msgID: string,
    options: PublishOptions = {},
  ): Promise<PubAck> {
    const { expectSeq, timeout } = options;
    const subject = this.subject(id);
    try {
      const ack = this.#js.publish(subject, JSON.stringify(payload), {
        msgID,
        expect:
          expectSeq === undefined
            ? { streamName: this.stream }
            : { streamName: this.stream, lastSubjectSequence: expectSeq },
        ...(timeout === undefined ? {} : { timeout }),
      });
      return await this.#cut(ack, subject);
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
      next_by_subj: `${this.#subject}.*`,
    };
    return this.call((jsm, stream) => jsm.streams.getMessage(stream, query));
  }

  /** `request`, ended at the next reconnection if this stream is asked to. */
  #cut<T>(request: Promise<T>, subject: string): Promise<T> {
    return this.#cutOnReconnect ? untilReconnect(this.#nc, request, subject) : request;
  }

  /** Rethrows `error`, as {@link UnknownGovernorError} if it says the stream does not exist. */
  #translate(error: unknown): never {
    if (apiCode(error) === ApiCode.StreamNotFound) {
      throw new UnknownGovernorError(this.governor, { cause: error });
    }
    throw error;
  }
}

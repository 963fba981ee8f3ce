/**
 * Creating, inspecting, changing and removing NATS governors: the operator's side.
 *
 * @module
 */
import { jetstream, type StreamInfo } from '@nats-io/jetstream';
import { InvalidOptionError } from '../../util/errors.js';
import {
  GovernorEntryNotFoundError,
  GovernorExistsError,
  GovernorLimitBelowActiveError,
  UnknownGovernorError,
} from './errors.js';
import {
  decodeEntry,
  defaultSubject,
  GovernorStream,
  governorSubject,
  streamConfig,
  STREAM_PREFIX,
  validateSubject,
} from './governor-stream.js';
import type { NatsConnection } from '../shared/connection.js';
import { apiCode, ApiCode } from '../shared/jetstream-errors.js';
import { formatDuration } from '../shared/duration.js';

/** How a governor is configured. */
export interface GovernorConfig {
  /** How many slots may be held at once. */
  readonly limit: number;
  /**
   * How long an entry lives without a refresh, in ms (at least 1000): the time after which
   * the slot of a holder that died comes back.
   */
  readonly maxAge: number;
  /**
   * Copies of the governor's stream in a JetStream cluster.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * The subject under which entries are published (`<subject>.<campaign id>`; the stream
   * captures `<subject>.*`), as choria's `WithSubject`: e.g. to fit an account's subject
   * permissions. Stored with the governor, so {@link Governor}, the manager and the CLI
   * find it by the governor's name; it cannot be changed afterwards.
   * @default `corral.governor.<name>`
   */
  readonly subject?: string;
}

/** A governor's configuration and state. */
export interface GovernorInfo {
  readonly name: string;
  readonly limit: number;
  /** In ms. */
  readonly maxAge: number;
  readonly replicas: number;
  /** The subject under which entries are published, `<subject>.<campaign id>`. */
  readonly subject: string;
  /** Slots held now. */
  readonly active: number;
  /** When an entry was last written (a grant or a refresh); `undefined` if never. */
  readonly lastActive: Date | undefined;
}

/** A held slot, as the governor's stream shows it. */
export interface GovernorEntry {
  /** The entry's sequence: what {@link GovernorManager.evict} takes. Moves on each refresh. */
  readonly seq: number;
  /** The holder's name. */
  readonly name: string;
  /** How long the slot has been held, in ms (by the holder's clock, across refreshes). */
  readonly age: number;
  /** How long until the entry expires unless refreshed, in ms. */
  readonly expiresIn: number;
}

/** Options of {@link GovernorManager.create}. */
export interface CreateOptions {
  /** If the governor exists with another configuration, change it instead of failing. */
  readonly update?: boolean;
  /** Allow lowering the limit below the slots held (see {@link GovernorManager.setLimit}). */
  readonly force?: boolean;
}

/** Options of changes that may lower the limit. */
export interface LimitOptions {
  /**
   * Lower the limit even below the slots held: JetStream then deletes the oldest entries, and
   * their holders learn it (their slot's `signal` aborts at its next refresh, `finish()` rejects).
   */
  readonly force?: boolean;
}

const MIN_MAX_AGE = 1000;

function check(option: string, value: unknown, min: number, max: number, unit = ''): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(option, `an integer from ${min} to ${max}${unit}`, value);
  }
  return value;
}

/** Checks the fields present; with `complete`, limit and max age must be. */
function validateConfig(config: Partial<GovernorConfig>, complete = false): void {
  if (complete || config.limit !== undefined) check('limit', config.limit, 1, 2 ** 31 - 1);
  if (complete || config.maxAge !== undefined) {
    check('maxAge', config.maxAge, MIN_MAX_AGE, Math.floor(Number.MAX_SAFE_INTEGER / 1e6), ' ms');
  }
  if (config.replicas !== undefined) check('replicas', config.replicas, 1, 5);
  if (config.subject !== undefined) validateSubject(config.subject);
}

function toInfo(info: StreamInfo): GovernorInfo {
  const last = Date.parse(info.state.last_ts);
  const name = info.config.name.slice(STREAM_PREFIX.length);
  return {
    name,
    limit: info.config.max_msgs,
    maxAge: Math.round(info.config.max_age / 1_000_000),
    replicas: info.config.num_replicas,
    subject: governorSubject(info) ?? defaultSubject(name),
    active: info.state.messages,
    // An empty stream reports year 1.
    lastActive: Number.isNaN(last) || last <= 0 ? undefined : new Date(last),
  };
}

function describeConfig(info: GovernorInfo): string {
  return `limit ${info.limit}, maxAge ${formatDuration(info.maxAge)}, replicas ${info.replicas}`;
}

/** A governor's configuration changes that {@link GovernorManager.update} takes. */
export type ConfigChanges = Partial<Omit<GovernorConfig, 'subject'>>;

/**
 * Manages one governor: its limit, max age and replicas, its entries, evictions and resets.
 * Get one with {@link GovernorManager.create} or {@link GovernorManager.open}.
 *
 * @example
 * ```ts
 * const deploys = await GovernorManager.create(nc, 'deploys', { limit: 3, maxAge: 300_000 });
 * console.log(await deploys.active(), await deploys.entries());
 * await deploys.setLimit(5);
 * ```
 */
export class GovernorManager {
  /** The governor's stream and the requests on it. */
  readonly #stream: GovernorStream;
  /** The configuration and state last read; the getters answer from it. */
  #info: GovernorInfo;

  private constructor(stream: GovernorStream, info: StreamInfo) {
    this.#stream = stream;
    this.#info = toInfo(info);
  }

  /**
   * Creates a governor, or opens it if it exists with this configuration. If it exists with
   * another, fails with `ERR_GOVERNOR_EXISTS` unless `options.update` asks to change it.
   */
  static async create(
    nc: NatsConnection,
    name: string,
    config: GovernorConfig,
    options: CreateOptions = {},
  ): Promise<GovernorManager> {
    validateConfig(config, true);
    const { limit, maxAge, replicas = 1, subject = defaultSubject(name) } = config;
    const stream = new GovernorStream(nc, name);
    let existing: StreamInfo;
    try {
      existing = await stream.info();
    } catch (error) {
      if (!(error instanceof UnknownGovernorError)) throw error;
      const wanted = streamConfig(name, limit, maxAge, replicas, subject);
      const info = await stream
        .call((jsm) => jsm.streams.add(wanted))
        .catch((cause: unknown) => {
          if (apiCode(cause) === ApiCode.SubjectsOverlap) {
            const expected = `a subject whose entries (${subject}.*) no other stream captures`;
            throw new InvalidOptionError('subject', expected, subject);
          }
          if (apiCode(cause) !== ApiCode.StreamNameInUse) throw cause;
          // Created meanwhile by someone else, differently.
          throw new GovernorExistsError(name, 'a different configuration');
        });
      return new GovernorManager(stream, info);
    }
    if (governorSubject(existing) === undefined) {
      const what = `a stream ${stream.stream} that is not a governor (other subjects)`;
      throw new GovernorExistsError(name, what, false);
    }
    const manager = new GovernorManager(stream, existing);
    const current = manager.#info;
    if (current.subject !== subject) {
      const what = `subject ${current.subject} (a subject cannot be changed: remove the governor and add it again)`;
      throw new GovernorExistsError(name, what, false);
    }
    const same =
      current.limit === config.limit &&
      current.maxAge === config.maxAge &&
      current.replicas === replicas;
    if (same) return manager;
    if (options.update !== true) throw new GovernorExistsError(name, describeConfig(current));
    await manager.update(
      { limit, maxAge, replicas },
      options.force === true ? { force: true } : {},
    );
    return manager;
  }

  /** Opens an existing governor; rejects with `ERR_UNKNOWN_GOVERNOR` if there is none. */
  static async open(nc: NatsConnection, name: string): Promise<GovernorManager> {
    const stream = new GovernorStream(nc, name);
    const info = await stream.info();
    if (governorSubject(info) === undefined) throw new UnknownGovernorError(name);
    return new GovernorManager(stream, info);
  }

  /** Every governor on the server, by name. */
  static async list(nc: NatsConnection): Promise<GovernorInfo[]> {
    const jsm = await jetstream(nc).jetstreamManager(false);
    const governors: GovernorInfo[] = [];
    for await (const info of jsm.streams.list()) {
      if (governorSubject(info) !== undefined) governors.push(toInfo(info));
    }
    return governors.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The governor's name. */
  get name(): string {
    return this.#stream.governor;
  }

  /** The limit, as last read. */
  get limit(): number {
    return this.#info.limit;
  }

  /** The max age in ms, as last read. */
  get maxAge(): number {
    return this.#info.maxAge;
  }

  /** The stream's replicas, as last read. */
  get replicas(): number {
    return this.#info.replicas;
  }

  /** The subject under which entries are published, `<subject>.<campaign id>`. */
  get subject(): string {
    return this.#info.subject;
  }

  /** Reads the configuration and state afresh. */
  async info(): Promise<GovernorInfo> {
    this.#info = toInfo(await this.#stream.info());
    return this.#info;
  }

  /** How many slots are held now. */
  async active(): Promise<number> {
    return (await this.info()).active;
  }

  /** When an entry was last written (a grant or a refresh), or `undefined` if never. */
  async lastActive(): Promise<Date | undefined> {
    return (await this.info()).lastActive;
  }

  /** The held slots, oldest entry first. */
  async entries(): Promise<GovernorEntry[]> {
    const { maxAge } = await this.info();
    const entries: GovernorEntry[] = [];
    for (let seq = 1; ;) {
      const message = await this.#stream.nextMessage(seq);
      if (message === null) break;
      const now = Date.now();
      const { name, granted } = decodeEntry(message);
      const written = message.time.getTime();
      entries.push({
        seq: message.seq,
        name,
        age: Math.max(0, now - (granted ?? written)),
        expiresIn: Math.max(0, written + maxAge - now),
      });
      seq = message.seq + 1;
    }
    return entries;
  }

  /**
   * Removes the entry `seq`, freeing its slot for someone else. The evicted holder learns it
   * at its next refresh (its slot's `signal` aborts) or when it finishes.
   * Rejects with `ERR_GOVERNOR_ENTRY_NOT_FOUND` if there is no such entry.
   */
  async evict(seq: number): Promise<GovernorEntry> {
    check('seq', seq, 1, Number.MAX_SAFE_INTEGER);
    const message = await this.#stream.message(seq);
    if (message === null) throw new GovernorEntryNotFoundError(this.name, seq);
    await this.#stream
      .call((jsm, stream) => jsm.streams.deleteMessage(stream, seq, false))
      .catch((error: unknown) => {
        if (apiCode(error) === ApiCode.NoMessageFound) {
          throw new GovernorEntryNotFoundError(this.name, seq);
        }
        throw error;
      });
    const { name, granted } = decodeEntry(message);
    const now = Date.now();
    const written = message.time.getTime();
    return { seq, name, age: Math.max(0, now - (granted ?? written)), expiresIn: 0 };
  }

  /** Removes every entry; resolves to how many there were. Their holders learn it as in {@link evict}. */
  async reset(): Promise<number> {
    const { purged } = await this.#stream.call((jsm, stream) => jsm.streams.purge(stream));
    return purged;
  }

  /**
   * Changes the limit. Lowering it below the slots held is refused with
   * `ERR_GOVERNOR_LIMIT_BELOW_ACTIVE` unless `options.force`: JetStream would delete the
   * oldest entries (nats-server #2589) and more work than the limit would run at once.
   * The check and the change are two requests, so a campaign between them can still be
   * trimmed; its holder is then told, as with `force`.
   */
  setLimit(limit: number, options: LimitOptions = {}): Promise<GovernorInfo> {
    return this.update({ limit }, options);
  }

  /**
   * Changes the max age (ms). Slots held keep refreshing at the period they started with,
   * so lowering it below that period makes them lose their entries (and be told).
   */
  setMaxAge(maxAge: number): Promise<GovernorInfo> {
    return this.update({ maxAge });
  }

  /** Changes any of limit, max age and replicas; lowering the limit is checked as in {@link setLimit}. */
  async update(changes: ConfigChanges, options: LimitOptions = {}): Promise<GovernorInfo> {
    validateConfig(changes);
    const current = await this.#stream.info();
    const limit = changes.limit ?? current.config.max_msgs;
    if (limit < current.state.messages && options.force !== true) {
      throw new GovernorLimitBelowActiveError(this.name, limit, current.state.messages);
    }
    const maxAge = changes.maxAge ?? Math.round(current.config.max_age / 1_000_000);
    const replicas = changes.replicas ?? current.config.num_replicas;
    const wanted = streamConfig(this.name, limit, maxAge, replicas);
    const { max_msgs, max_age, num_replicas, duplicate_window } = wanted;
    const info = await this.#stream.call((jsm, stream) =>
      jsm.streams.update(stream, { max_msgs, max_age, num_replicas, duplicate_window }),
    );
    this.#info = toInfo(info);
    return this.#info;
  }

  /** Deletes the governor and its entries. Holders learn it at their next refresh. */
  async remove(): Promise<void> {
    await this.#stream.call((jsm, stream) => jsm.streams.delete(stream));
  }
}

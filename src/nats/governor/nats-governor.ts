/**
 * The campaign for a slot of a NATS governor.
 *
 * A campaign publishes an entry to its own subject of the governor's stream. The stream
 * (discard new, `max_msgs = limit`) stores it only while fewer than `limit` entries exist:
 * stored, the entry's sequence is the slot; refused with "maximum messages exceeded", the
 * campaign waits (its backoff policy) and tries again until its signal aborts.
 *
 * A lost reply cannot leave an orphan entry: every try of one campaign carries the same
 * message id, so if an earlier try was stored, the server answers the retry as a duplicate
 * with the stored sequence. And since the subject is the campaign's own and holds one
 * message, even a retry that the server no longer recognises replaces the earlier entry
 * instead of adding a second. A message id is never reused once its entry may be gone: the
 * server would answer "duplicate" for an entry that no longer exists.
 *
 * A slot's age starts at a write whose reply came back: an entry stored by a try whose reply
 * was lost (say, during a server restart) may be about as old as that try, so the campaign
 * rewrites it before handing out the slot, rather than hand out a slot that is close to
 * expiring or already expired.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { PubAck, StreamInfo } from '@nats-io/jetstream';
import { InvalidOptionError } from '../../util/errors.js';
import { holderName } from '../../util/holder-name.js';
import { backoffDelay, BACKOFF_POLICIES, sleep, type BackoffPolicy } from '../shared/backoff.js';
import {
  runInSlot,
  type ConcurrencyGovernor,
  type RunOptions,
  type StartOptions,
} from '../../governor/governor.js';
import { CampaignAbortedError, UnknownGovernorError } from './errors.js';
import { NatsReconnectedError } from '../shared/errors.js';
import { GovernorStream, governorSubject } from './governor-stream.js';
import type { NatsConnection } from '../shared/connection.js';
import { isNoResponders, isStreamFull, isTransient } from '../shared/jetstream-errors.js';
import { NatsSlot, type SlotTiming } from './slot.js';

/** The longest wait for a JetStream reply unless `timeout` says otherwise, in ms. */
const DEFAULT_TIMEOUT = 5000;

/** Options of a {@link Governor}. */
export interface GovernorOptions {
  /**
   * The wait before trying again when the governor is full, in ms: the first wait of the
   * `'exponential'` policy, every wait of the `'constant'` one (CLI: `--interval`).
   * @default 250
   */
  readonly retryInterval?: number;
  /**
   * The longest wait between tries of the `'exponential'` policy, in ms; with it, at least
   * `retryInterval` (CLI: `--max-interval`).
   * @default the larger of 2000 and retryInterval
   */
  readonly maxRetryInterval?: number;
  /**
   * How long to wait between tries while the governor is full: `'exponential'`,
   * `'constant'`, or a function of the try number returning ms (see {@link BackoffPolicy}).
   * @default 'exponential'
   */
  readonly backoff?: BackoffPolicy;
  /**
   * How often a held slot rewrites its entry so that work longer than the governor's
   * `maxAge` keeps its slot, in ms; it must be less than `maxAge`. `false` turns it off, as
   * in choria's governor: an entry then expires `maxAge` after the grant and the slot's
   * `signal` aborts, but work that goes on runs outside the limit.
   * @default maxAge / 3
   */
  readonly refreshInterval?: number | false;
  /**
   * How long to wait for each JetStream reply, in ms. A refresh must be able to wait for a
   * reply and be sent once more between the moment it is due and the expiry of its entry,
   * so with refresh on this may be at most `(maxAge - refreshInterval) / 2`: a campaign on
   * a governor whose `maxAge` is too short for it rejects with `ERR_INVALID_OPTION`.
   * A timed-out try is sent again (safely: see the module notes), and so is one cut by a
   * reconnection, at once.
   * @default the smaller of 5000 and (maxAge - refreshInterval) / 2
   */
  readonly timeout?: number;
  /**
   * Whether `finish()` removes the slot's entry. `false` (choria's
   * `WithoutLeavingOnCompletion`, CLI `--max-per-period`) leaves it to expire `maxAge`
   * after its last write, so the slot comes back only then: at most `limit` slots are
   * granted in any `maxAge` window, whatever the work's length.
   * @default true
   */
  readonly leaveOnFinish?: boolean;
}

/** Reads `aborted` afresh (TypeScript would keep what it saw before an `await`). */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function positiveInteger(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(option, 'a positive integer (ms)', value);
  }
  return value;
}

function backoffPolicy(value: unknown): BackoffPolicy {
  if (typeof value === 'function') return value as BackoffPolicy;
  if (BACKOFF_POLICIES.some((policy) => policy === value)) return value as BackoffPolicy;
  throw new InvalidOptionError('backoff', `'exponential', 'constant' or a function`, value);
}

/**
 * A cluster-wide concurrency limit: at most `limit` slots are held at once across every
 * process using the governor. Create the governor first with {@link GovernorManager.create}
 * (or `corral governor add`); this class only campaigns for slots.
 *
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node';
 * import { Governor } from 'corral/nats';
 *
 * const nc = await connect({ servers: 'nats://127.0.0.1:4222', reconnectTimeWait: 500 });
 * const governor = new Governor(nc, 'deploys');
 * const slot = await governor.start({ name: 'web-1', signal: AbortSignal.timeout(60_000) });
 * try {
 *   await deploy({ signal: slot.signal }); // aborted if the slot is lost
 * } finally {
 *   await slot.finish();
 * }
 * // or: await governor.run('web-1', (signal) => deploy({ signal }));
 * ```
 */
export class Governor implements ConcurrencyGovernor {
  /** The governor's stream and the requests on it. */
  readonly #stream: GovernorStream;
  /** Wait between tries when full (the first one, for the exponential policy), in ms. */
  readonly #retryInterval: number;
  /** Longest exponential wait, in ms. */
  readonly #maxRetryInterval: number;
  /** How the wait between tries grows. */
  readonly #backoff: BackoffPolicy;
  /** The refresh period asked for; `undefined`: a third of the governor's maxAge. */
  readonly #refreshInterval: number | false | undefined;
  /** The reply timeout asked for; `undefined`: worked out from the governor's maxAge. */
  readonly #timeout: number | undefined;
  /** Whether `finish()` removes the entry (false: it is left to expire). */
  readonly #leaveOnFinish: boolean;

  /**
   * @param nc an open connection; the governor never connects or closes it. For slots to
   *   survive a server restart, let it reconnect soon (e.g. `reconnectTimeWait: 500`,
   *   `maxReconnectAttempts: -1`): a slot keeps its entry only if a refresh lands within
   *   `maxAge - refreshInterval` of being due.
   * @param name the governor's name (letters, digits, `-`, `_`).
   */
  constructor(nc: NatsConnection, name: string, options: GovernorOptions = {}) {
    this.#retryInterval = positiveInteger('retryInterval', options.retryInterval ?? 250);
    const maxRetry = options.maxRetryInterval;
    this.#maxRetryInterval =
      maxRetry === undefined
        ? Math.max(2000, this.#retryInterval)
        : positiveInteger('maxRetryInterval', maxRetry);
    this.#backoff = backoffPolicy(options.backoff ?? 'exponential');
    // Only the exponential policy grows the wait towards this cap.
    if (this.#backoff === 'exponential' && this.#maxRetryInterval < this.#retryInterval) {
      const expected = `at least retryInterval (${this.#retryInterval} ms) with the exponential backoff`;
      throw new InvalidOptionError('maxRetryInterval', expected, maxRetry);
    }
    const refresh = options.refreshInterval;
    this.#refreshInterval =
      refresh === undefined || refresh === false
        ? refresh
        : positiveInteger('refreshInterval', refresh);
    this.#timeout =
      options.timeout === undefined ? undefined : positiveInteger('timeout', options.timeout);
    const leave = options.leaveOnFinish ?? true;
    if (typeof leave !== 'boolean') {
      throw new InvalidOptionError('leaveOnFinish', 'a boolean', leave);
    }
    this.#leaveOnFinish = leave;
    this.#stream = new GovernorStream(nc, name, { timeout: this.#timeout, cutOnReconnect: true });
  }

  /** The governor's name. */
  get name(): string {
    return this.#stream.governor;
  }

  /**
   * Waits for a free slot and takes it.
   *
   * Rejects with `ERR_UNKNOWN_GOVERNOR` if the governor does not exist, with `ABORT_ERR`
   * ({@link CampaignAbortedError}) if `signal` aborts first, with `ERR_INVALID_OPTION` if
   * the options do not fit the governor's `maxAge`, and with the error of anything that is
   * neither "full" nor passing trouble (timeouts and disconnections are retried). When
   * aborted while a try is in flight, it waits for that try to settle and removes the entry
   * it may have stored before rejecting, so an abort leaves nothing behind.
   */
  async start(options: StartOptions = {}): Promise<NatsSlot> {
    const { name = holderName(), signal } = options;
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidOptionError('name', 'a non-empty string', name);
    }
    const id = randomUUID();
    const payload = { name };
    let writes = 0;
    let msgID = `${id}.${writes++}`;
    let timing: SlotTiming | undefined;
    // Whether an entry of this campaign may be in the stream (a try of unknown outcome, or one answered "duplicate").
    let mayHaveStored = false;
    for (let refusals = 0; ;) {
      if (isAborted(signal)) return this.#abandon(id, mayHaveStored, signal?.reason);
      let sentAt: number | undefined;
      let ack: PubAck;
      try {
        timing ??= this.#timing(await this.#stream.info());
        sentAt = performance.now();
        ack = await this.#stream.publish(id, payload, msgID, { timeout: timing.tryTimeout });
      } catch (error) {
        if (isStreamFull(error)) {
          // Refused, so not stored; and had an entry of this campaign been there, the try would have replaced it.
          mayHaveStored = false;
        } else if (isTransient(error) || isNoResponders(error)) {
          if (sentAt !== undefined) mayHaveStored = true;
          // The server is back and the reply will not come: try again at once.
          if (error instanceof NatsReconnectedError) continue;
        } else {
          if (mayHaveStored) await this.#discard(id);
          throw error;
        }
        let wait: number;
        try {
          wait = backoffDelay(
            this.#backoff,
            refusals++,
            this.#retryInterval,
            this.#maxRetryInterval,
          );
        } catch (policyError) {
          if (mayHaveStored) await this.#discard(id);
          throw policyError;
        }
        await sleep(wait, signal).catch(() => undefined);
        continue;
      }
      if (ack.duplicate) {
        // Stored by an earlier try, at a time we cannot know: rewrite it (see the module notes).
        mayHaveStored = true;
        msgID = `${id}.${writes++}`;
        continue;
      }
      // The signal may have aborted while the try was in flight.
      if (isAborted(signal)) return this.#abandon(id, true, signal?.reason);
      return new NatsSlot({
        stream: this.#stream,
        id,
        payload,
        seq: ack.seq,
        // Not a duplicate: this very try stored the entry, so not before it was sent.
        writtenAt: sentAt,
        writes,
        timing,
        retryInterval: this.#retryInterval,
        maxRetryInterval: this.#maxRetryInterval,
        leaveOnFinish: this.#leaveOnFinish,
      });
    }
  }

  /**
   * Runs `fn` in a slot, and gives the slot back when `fn` settles. `fn`'s signal aborts
   * if the slot is lost or `options.signal` aborts. See {@link runInSlot}.
   *
   * @example
   * ```ts
   * const rows = await governor.run('export', (signal) => exportRows({ signal }));
   * ```
   */
  run<T>(
    name: string,
    fn: (signal: AbortSignal) => T | Promise<T>,
    options: RunOptions = {},
  ): Promise<T> {
    return runInSlot(this, name, fn, options);
  }

  /** The refresh period and reply timeout for the governor `info` describes. */
  #timing(info: StreamInfo): SlotTiming {
    if (governorSubject(info) === undefined) throw new UnknownGovernorError(this.name);
    const maxAge = Math.round(info.config.max_age / 1_000_000);
    const refreshInterval = this.#refreshFor(maxAge);
    // A refresh falls due `refreshInterval` after a write and must land before `maxAge` after it.
    const window = refreshInterval === false ? maxAge : maxAge - refreshInterval;
    const longest = Math.max(1, Math.floor(window / 2));
    const asked = this.#timeout;
    if (asked === undefined) {
      return { maxAge, refreshInterval, tryTimeout: Math.min(DEFAULT_TIMEOUT, longest) };
    }
    if (refreshInterval !== false && asked > longest) {
      throw new InvalidOptionError(
        'timeout',
        `at most ${longest} ms for governor '${this.name}' (maxAge ${maxAge} ms, refresh every ` +
          `${refreshInterval} ms): a refresh that gets no reply must be sent again before its entry expires`,
        asked,
      );
    }
    return { maxAge, refreshInterval, tryTimeout: asked };
  }

  #refreshFor(maxAge: number): number | false {
    const asked = this.#refreshInterval;
    if (asked === false) return false;
    if (asked === undefined) return Math.max(1, Math.floor(maxAge / 3));
    if (asked >= maxAge) {
      throw new InvalidOptionError(
        'refreshInterval',
        `less than the governor's maxAge (${maxAge} ms), or false`,
        asked,
      );
    }
    return asked;
  }

  /** Gives up an aborted campaign, removing any entry a try of unknown outcome may have stored. */
  async #abandon(id: string, mayHaveStored: boolean, reason: unknown): Promise<never> {
    if (mayHaveStored) await this.#discard(id);
    throw new CampaignAbortedError(this.name, reason);
  }

  /** Removes the entry of a campaign that ends without a slot; if that fails, it expires after maxAge. */
  async #discard(id: string): Promise<void> {
    await this.#stream.purgeEntry(id).catch(() => undefined);
  }
}

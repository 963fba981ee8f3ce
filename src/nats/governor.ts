/**
 * The campaign for a slot of a NATS governor.
 *
 * A campaign publishes an entry to its own subject of the governor's stream. The stream
 * (discard new, `max_msgs = limit`) stores it only while fewer than `limit` entries exist:
 * stored, the entry's sequence is the slot; refused with "maximum messages exceeded", the
 * campaign waits (jittered exponential backoff) and tries again until its signal aborts.
 *
 * A lost reply cannot leave an orphan entry: every try of one campaign carries the same
 * message id, so if an earlier try was stored, the server answers the retry as a duplicate
 * with the stored sequence. And since the subject is the campaign's own and holds one
 * message, even a retry that the server no longer recognises replaces the earlier entry
 * instead of adding a second. A message id is never reused once its entry may be gone: the
 * server would answer "duplicate" for an entry that no longer exists.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { InvalidOptionError } from '../util/errors.js';
import { retryDelay, sleep } from './backoff.js';
import {
  runInSlot,
  type ConcurrencyGovernor,
  type RunOptions,
  type StartOptions,
} from '../governor/governor.js';
import { CampaignAbortedError } from './errors.js';
import { GovernorStream, type NatsConnection } from './governor-stream.js';
import { isNoResponders, isStreamFull, isTransient } from './jetstream-errors.js';
import { NatsSlot } from './slot.js';

/** Options of a {@link Governor}. */
export interface GovernorOptions {
  /**
   * The first wait before trying again when the governor is full, in ms. Later waits double
   * up to {@link maxRetryInterval}, each jittered within its upper half.
   * @default 250
   */
  readonly retryInterval?: number;
  /**
   * The longest wait between tries, in ms.
   * @default 2000
   */
  readonly maxRetryInterval?: number;
  /**
   * How often a held slot rewrites its entry so that work longer than the governor's
   * `maxAge` keeps its slot, in ms; it must be less than `maxAge`. `false` turns it off, as
   * in choria's governor: an entry then expires `maxAge` after the grant and the slot's
   * `signal` aborts, but work that goes on runs outside the limit.
   * @default maxAge / 3
   */
  readonly refreshInterval?: number | false;
  /**
   * How long to wait for each JetStream reply, in ms. A timed-out campaign try is retried
   * (safely: see the module notes).
   * @default 5000
   */
  readonly timeout?: number;
}

/** The name an entry shows when `start()` is given none. */
export function defaultHolderName(): string {
  return `${hostname()}:${process.pid}`;
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
 * const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
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
  /** First backoff wait when full, in ms. */
  readonly #retryInterval: number;
  /** Longest backoff wait, in ms. */
  readonly #maxRetryInterval: number;
  /** The refresh period asked for; `undefined`: a third of the governor's maxAge. */
  readonly #refreshInterval: number | false | undefined;

  /**
   * @param nc an open connection; the governor never connects or closes it.
   * @param name the governor's name (letters, digits, `-`, `_`).
   */
  constructor(nc: NatsConnection, name: string, options: GovernorOptions = {}) {
    this.#retryInterval = positiveInteger('retryInterval', options.retryInterval ?? 250);
    this.#maxRetryInterval = positiveInteger('maxRetryInterval', options.maxRetryInterval ?? 2000);
    const refresh = options.refreshInterval;
    this.#refreshInterval =
      refresh === undefined || refresh === false
        ? refresh
        : positiveInteger('refreshInterval', refresh);
    const timeout =
      options.timeout === undefined ? undefined : positiveInteger('timeout', options.timeout);
    this.#stream = new GovernorStream(nc, name, timeout);
  }

  /** The governor's name. */
  get name(): string {
    return this.#stream.governor;
  }

  /**
   * Waits for a free slot and takes it.
   *
   * Rejects with `ERR_UNKNOWN_GOVERNOR` if the governor does not exist, with `ABORT_ERR`
   * ({@link CampaignAbortedError}) if `signal` aborts first, and with the error of anything
   * that is neither "full" nor passing trouble (timeouts and disconnections are retried).
   * When aborted while a try is in flight, it waits for that try to settle and removes the
   * entry it may have stored before rejecting, so an abort leaves nothing behind.
   */
  async start(options: StartOptions = {}): Promise<NatsSlot> {
    const { name = defaultHolderName(), signal } = options;
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidOptionError('name', 'a non-empty string', name);
    }
    const id = randomUUID();
    const payload = { name };
    let writes = 0;
    let msgID = `${id}.${writes++}`;
    let maxAge: number | undefined;
    // The earliest send of msgID whose outcome is unknown: if it was stored, the entry's age counts from there.
    let unknownSince: number | undefined;
    for (let attempt = 0; ; attempt++) {
      if (isAborted(signal)) {
        return this.#abandon(id, unknownSince !== undefined, signal?.reason);
      }
      let sentAt: number | undefined;
      try {
        maxAge ??= Math.round((await this.#stream.info()).config.max_age / 1_000_000);
        const refreshInterval = this.#refreshFor(maxAge);
        sentAt = performance.now();
        const ack = await this.#stream.publish(id, payload, msgID);
        if (ack.duplicate && (await this.#stream.message(ack.seq)) === null) {
          // Answered for an earlier try whose entry is already gone: that id is spent.
          msgID = `${id}.${writes++}`;
          unknownSince = undefined;
          continue;
        }
        const slot = new NatsSlot({
          stream: this.#stream,
          id,
          payload,
          seq: ack.seq,
          writtenAt: unknownSince ?? sentAt,
          writes,
          maxAge,
          refreshInterval,
          retryInterval: this.#retryInterval,
          maxRetryInterval: this.#maxRetryInterval,
        });
        // The signal may have aborted while the try was in flight.
        if (isAborted(signal)) {
          await slot.finish().catch(() => undefined);
          throw new CampaignAbortedError(this.name, signal?.reason);
        }
        return slot;
      } catch (error) {
        if (isStreamFull(error)) {
          // Refused, so not stored: nothing of this id is in the stream.
          unknownSince = undefined;
        } else if (isTransient(error) || isNoResponders(error)) {
          if (sentAt !== undefined) unknownSince ??= sentAt;
        } else {
          throw error;
        }
      }
      const wait = retryDelay(attempt, this.#retryInterval, this.#maxRetryInterval);
      await sleep(wait, signal).catch(() => undefined);
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
    if (mayHaveStored) await this.#stream.purgeEntry(id).catch(() => undefined);
    throw new CampaignAbortedError(this.name, reason);
  }
}

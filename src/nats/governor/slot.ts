/**
 * A slot held in a NATS governor: keeps its entry alive while the work runs, notices when
 * the entry is gone, and removes it on finish.
 *
 * Why refresh: JetStream expires an entry `maxAge` after it was written, which is how a dead
 * holder's slot comes back. A live holder whose work outlasts `maxAge` would lose its entry
 * the same way, and the governor would admit one more than its limit. So the slot rewrites
 * its entry every `refreshInterval` (default `maxAge / 3`) on its own subject: with
 * `max_msgs_per_subject = 1` the new message replaces the old one, even in a full stream,
 * and its timestamp starts `maxAge` over. Each refresh expects the subject's last sequence to
 * be the slot's own, so if the entry was removed (evicted, reset, trimmed by a forced limit
 * change) the refresh fails instead of quietly taking a new slot, and `signal` aborts.
 *
 * The trade-off: refreshing needs the connection and the event loop. If no refresh lands
 * before `maxAge` since the last one was sent, the slot declares itself lost at that moment
 * (the server cannot have expired the entry any sooner), so the work is told when the limit
 * stops covering it; whether it stops is up to the work.
 *
 * Across a server restart: a refresh sent while the server is away gets no reply, so each
 * try waits at most the time its entry has left (and the governor's reply timeout), and a
 * reconnection cuts it short so it is sent again at once. A restart shorter than
 * `maxAge - refreshInterval`, less the time to reconnect, therefore costs no slot.
 *
 * @module
 */
import type { Slot } from '../../governor/governor.js';
import { retryDelay, sleep } from '../shared/backoff.js';
import { GovernorSlotLostError, UnknownGovernorError } from './errors.js';
import { NatsReconnectedError } from '../shared/errors.js';
import type { EntryPayload, GovernorStream } from './governor-stream.js';
import {
  apiCode,
  ApiCode,
  isStreamFull,
  isTimeout,
  isTransient,
} from '../shared/jetstream-errors.js';

/** The governor's timing, as the campaign worked it out from its `maxAge`. */
export interface SlotTiming {
  /** The governor's `maxAge` when the slot was granted, in ms. */
  readonly maxAge: number;
  /** How often to rewrite the entry; `false`: never, so it expires `maxAge` after the grant. */
  readonly refreshInterval: number | false;
  /** The longest wait for one reply, in ms. */
  readonly tryTimeout: number;
}

/** What a slot needs from the campaign that won it. */
export interface SlotInit {
  readonly stream: GovernorStream;
  /** The campaign id, which names the subject of the entry. */
  readonly id: string;
  readonly payload: EntryPayload;
  readonly seq: number;
  /** `performance.now()` when the entry was sent: it cannot expire before this + maxAge. */
  readonly writtenAt: number;
  /** The number of message ids the campaign used; refreshes continue from there. */
  readonly writes: number;
  readonly timing: SlotTiming;
  readonly retryInterval: number;
  readonly maxRetryInterval: number;
  /** Whether `finish()` removes the entry; `false`: it is left to expire. */
  readonly leaveOnFinish: boolean;
}

/** How many times `finish()` asks before giving up and leaving the entry to expire. */
const FINISH_ATTEMPTS = 3;

/** A slot of a {@link Governor}; see the module notes for how it keeps its entry. */
export class NatsSlot implements Slot {
  /** Where the entry lives, and the requests to manage it. */
  readonly #stream: GovernorStream;
  /** The campaign id: names the subject that holds this slot's one entry. */
  readonly #id: string;
  /** What every write of the entry carries. */
  readonly #payload: EntryPayload;
  /** The governor's `maxAge` when the slot was granted, in ms. */
  readonly #maxAge: number;
  /** How often to rewrite the entry; `false`: never, so it expires `maxAge` after the grant. */
  readonly #refreshInterval: number | false;
  /** The longest wait for one reply, in ms. */
  readonly #tryTimeout: number;
  /** Whether `finish()` removes the entry; `false`: it is left to expire. */
  readonly #leaveOnFinish: boolean;
  /** Retry pacing for refreshes that fail for passing reasons. */
  readonly #retry: { readonly interval: number; readonly max: number };
  /** The sequence of the current entry; each refresh moves it. */
  #seq: number;
  /** `performance.now()` when the current entry was sent: it cannot expire before this + maxAge. */
  #writtenAt: number;
  /** Message ids used so far; each write gets the next, so no id is ever reused. */
  #writes: number;
  /** Aborted with a {@link GovernorSlotLostError} once the entry is known or presumed gone. */
  readonly #lost = new AbortController();
  /** Fires when the current entry expires unless a refresh lands first. */
  #expiryTimer: NodeJS.Timeout | undefined;
  /** Fires when the next refresh is due. */
  #refreshTimer: NodeJS.Timeout | undefined;
  /** Aborted by `finish()` to cut short a refresh's wait between retries. */
  readonly #stop = new AbortController();
  /** The refresh in progress; `finish()` waits for it so it cannot leave an entry behind. */
  #refreshing: Promise<void> | undefined;
  /** Why the last refresh attempt failed, kept as the cause if the slot is then lost. */
  #lastError: unknown;
  /** The outcome of the first `finish()`, returned to every later call. */
  #finished: Promise<void> | undefined;

  constructor(init: SlotInit) {
    this.#stream = init.stream;
    this.#id = init.id;
    this.#payload = { ...init.payload, granted: Date.now() };
    this.#maxAge = init.timing.maxAge;
    this.#refreshInterval = init.timing.refreshInterval;
    this.#tryTimeout = init.timing.tryTimeout;
    this.#leaveOnFinish = init.leaveOnFinish;
    this.#retry = { interval: init.retryInterval, max: init.maxRetryInterval };
    this.#seq = init.seq;
    this.#writtenAt = init.writtenAt;
    this.#writes = init.writes;
    this.#schedule();
  }

  /** The sequence of the slot's entry in the governor's stream. Changes when the entry is refreshed. */
  get seq(): number {
    return this.#seq;
  }

  /** Aborts, with a {@link GovernorSlotLostError} as reason, if the slot is lost while held. */
  get signal(): AbortSignal {
    return this.#lost.signal;
  }

  /**
   * Removes the slot's entry, or with `leaveOnFinish: false` stops refreshing it and leaves
   * it to expire. Idempotent: later calls return the first call's promise.
   * Rejects with {@link GovernorSlotLostError} if the slot had been lost or its entry was
   * already gone. If the server cannot be reached, rejects with that error; the entry is no
   * longer refreshed and expires after `maxAge`.
   */
  finish(): Promise<void> {
    this.#finished ??= this.#release();
    return this.#finished;
  }

  /** Arms the timers for the current entry: its expiry, and its refresh unless that is off. */
  #schedule(): void {
    this.#clearTimers();
    if (this.#finished !== undefined || this.#lost.signal.aborted) return;
    const now = performance.now();
    const why =
      this.#refreshInterval === false
        ? 'its entry expired after maxAge (refresh is off)'
        : 'could not refresh its entry within maxAge';
    // A held slot alone must not keep the process alive; the connection decides that.
    this.#expiryTimer = setTimeout(
      () => {
        this.#lose(why);
      },
      this.#writtenAt + this.#maxAge - now,
    ).unref();
    if (this.#refreshInterval !== false) {
      const due = this.#writtenAt + this.#refreshInterval - now;
      this.#refreshTimer = setTimeout(
        () => {
          this.#refreshing = this.#refresh();
        },
        Math.max(0, due),
      ).unref();
    }
  }

  #clearTimers(): void {
    clearTimeout(this.#expiryTimer);
    clearTimeout(this.#refreshTimer);
  }

  /** Rewrites the entry, retrying passing failures until it would have expired. Never rejects. */
  async #refresh(): Promise<void> {
    const msgID = `${this.#id}.${this.#writes++}`;
    // The first send of msgID: an entry answered as a duplicate was stored no sooner.
    let firstSent: number | undefined;
    for (let attempt = 0; !this.#stop.signal.aborted && !this.#lost.signal.aborted;) {
      const sentAt = performance.now();
      firstSent ??= sentAt;
      // Waiting for a reply past the entry's expiry is no use: the expiry timer decides then.
      const left = this.#writtenAt + this.#maxAge - sentAt;
      if (left < 1) return;
      try {
        const ack = await this.#stream.publish(this.#id, this.#payload, msgID, {
          expectSeq: this.#seq,
          timeout: Math.min(this.#tryTimeout, Math.floor(left)),
        });
        this.#seq = ack.seq;
        // Not a duplicate: this very send stored it. A duplicate is no younger than the first send.
        this.#writtenAt = ack.duplicate ? firstSent : sentAt;
        this.#lastError = undefined;
        this.#schedule();
        return;
      } catch (error) {
        if (apiCode(error) === ApiCode.WrongLastSequence || isStreamFull(error)) {
          this.#lose('its entry was removed (evicted, reset, or trimmed by a lower limit)', error);
          return;
        }
        if (error instanceof UnknownGovernorError) {
          this.#lose('the governor was removed', error);
          return;
        }
        // Anything else may pass; the expiry timer decides when it is too late.
        this.#lastError = error;
        // Reconnected, or already waited a whole timeout: send it again at once.
        if (error instanceof NatsReconnectedError || isTimeout(error)) continue;
      }
      const remaining = this.#writtenAt + this.#maxAge - performance.now();
      const wait = Math.min(
        retryDelay(attempt++, this.#retry.interval, this.#retry.max),
        Math.max(0, remaining / 4),
      );
      await sleep(wait, this.#stop.signal).catch(() => undefined);
    }
  }

  #lose(why: string, cause: unknown = this.#lastError): void {
    if (this.#lost.signal.aborted) return;
    this.#clearTimers();
    this.#lost.abort(this.#lostError(why, cause));
  }

  async #release(): Promise<void> {
    this.#clearTimers();
    this.#stop.abort();
    await this.#refreshing;
    if (!this.#leaveOnFinish) {
      if (this.#lost.signal.aborted) throw this.#lost.signal.reason as Error;
      return;
    }
    const purged = await this.#purge();
    if (this.#lost.signal.aborted) throw this.#lost.signal.reason as Error;
    if (purged === 0) {
      throw this.#lostError(
        'its entry was gone when the slot was finished (evicted, reset, trimmed or expired)',
      );
    }
  }

  /**
   * Removes the entry, by subject rather than by sequence so that it also removes a refresh
   * that landed unheard. Retries passing trouble a few times; resolves to how many entries
   * were removed, or -1 if an earlier try may have removed it without our hearing.
   */
  async #purge(): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        const purged = await this.#stream.purgeEntry(this.#id);
        return attempt > 1 && purged === 0 ? -1 : purged;
      } catch (error) {
        if (this.#lost.signal.aborted) throw this.#lost.signal.reason as Error;
        if (error instanceof UnknownGovernorError) {
          throw this.#lostError('the governor was removed', error);
        }
        if (!isTransient(error) || attempt >= FINISH_ATTEMPTS) throw error;
        await sleep(retryDelay(attempt, this.#retry.interval, this.#retry.max));
      }
    }
  }

  #lostError(why: string, cause?: unknown): GovernorSlotLostError {
    const options = cause === undefined ? {} : { cause };
    return new GovernorSlotLostError(this.#stream.governor, this.#seq, why, options);
  }
}

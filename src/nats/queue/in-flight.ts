/**
 * Requests sent with a reply subject under a private inbox and not yet answered, by reply
 * token, with one sweep timer for those left unanswered: what the ack confirmer and the
 * stored publisher share. Every quarter of the timeout the sweep hands each request older
 * than the timeout to `expired`. It stops once nothing was in flight for a whole timeout
 * (4 sweeps), not as the last is answered: while work keeps coming (one request per message,
 * rarely two at once) that would start and stop a timer per request.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';

/** Sweeps in a row that found nothing in flight before the timer stops. */
const IDLE_SWEEPS = 4;

/** A request in flight: when it was sent, `performance.now()`. */
export interface Sent {
  sentAt: number;
}

/**
 * Requests in flight by reply token, and the sweep that hands back those left unanswered.
 * The owner sends, `add`s, and `take`s a request when its answer comes.
 */
export class InFlight<T extends Sent> {
  /** By reply token; in the order sent. */
  readonly #items = new Map<string, T>();
  /** How long a request waits for its answer, in ms (up to a quarter more: the sweep's step). */
  readonly #timeout: number;
  readonly #expired: (item: T) => void;
  #sweeper: NodeJS.Timeout | undefined;
  /** Sweeps in a row that found nothing in flight, nothing sent since. */
  #idleSweeps = 0;

  /** `expired` gets each request unanswered after `timeout` ms, already taken out. */
  constructor(timeout: number, expired: (item: T) => void) {
    this.#timeout = timeout;
    this.#expired = expired;
  }

  /** Requests in flight. */
  get size(): number {
    return this.#items.size;
  }

  /** A request sent under `token`, its `sentAt` set. */
  add(token: string, item: T): void {
    this.#items.set(token, item);
    this.#idleSweeps = 0;
    this.#sweeper ??= setInterval(
      () => {
        this.#sweep();
      },
      Math.max(1, Math.floor(this.#timeout / 4)),
    );
  }

  /** Takes out the request sent under `token` (undefined: swept out, or none). */
  take(token: string): T | undefined {
    const item = this.#items.get(token);
    if (item !== undefined) this.#items.delete(token);
    return item;
  }

  /** Takes out every request in flight, in the order sent, and stops the sweep. */
  takeAll(): T[] {
    const all = [...this.#items.values()];
    this.#items.clear();
    this.stop();
    return all;
  }

  /** Stops the sweep (the next `add` starts it again). */
  stop(): void {
    this.#idleSweeps = 0;
    if (this.#sweeper === undefined) return;
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  #sweep(): void {
    if (this.#items.size === 0) {
      if (++this.#idleSweeps >= IDLE_SWEEPS) this.stop();
      return;
    }
    this.#idleSweeps = 0;
    const now = performance.now();
    for (const [token, item] of this.#items) {
      if (now - item.sentAt < this.#timeout) continue;
      this.#items.delete(token);
      this.#expired(item);
    }
  }
}

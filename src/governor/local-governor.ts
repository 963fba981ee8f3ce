/**
 * An in-process {@link ConcurrencyGovernor}: at most `limit` slots at once, waiters
 * served in order. The same seam as the NATS governor in `corral/nats`, for tests and
 * for code that should not care which one it has.
 */
import { Deque } from '../util/deque.js';
import { AbortError } from '../util/errors.js';
import type { ConcurrencyGovernor, Slot, StartOptions } from './governor.js';
import { checkInteger } from '../pool/options.js';

export class LocalGovernor implements ConcurrencyGovernor {
  readonly #limit: number;
  /** Slots held. */
  #active = 0;
  #nextSeq = 1;
  /** Campaigns waiting, oldest first. */
  readonly #waiting = new Deque<{ grant: () => void; done: boolean }>();

  constructor(limit: number) {
    this.#limit = checkInteger('limit', limit, 1);
  }

  /** Slots held now. */
  get active(): number {
    return this.#active;
  }

  start(options: StartOptions = {}): Promise<Slot> {
    const signal = options.signal;
    if (signal?.aborted === true) return Promise.reject(new AbortError(signal.reason));
    return new Promise((resolve, reject) => {
      const waiter = {
        done: false,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#slot());
        },
      };
      const onAbort = (): void => {
        waiter.done = true;
        reject(new AbortError(signal?.reason));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
      this.#serve();
    });
  }

  #slot(): Slot {
    this.#active++;
    let finished: Promise<void> | undefined;
    return {
      seq: this.#nextSeq++,
      signal: new AbortController().signal, // an in-process slot is never lost
      finish: () => {
        if (finished === undefined) {
          finished = Promise.resolve();
          this.#active--;
          this.#serve();
        }
        return finished;
      },
    };
  }

  #serve(): void {
    while (this.#active < this.#limit && this.#waiting.length > 0) {
      const waiter = this.#waiting.shift();
      if (waiter === undefined || waiter.done) continue;
      waiter.done = true;
      waiter.grant();
    }
  }
}

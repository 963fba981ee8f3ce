/**
 * An in-process {@link ConcurrencyGovernor}: at most `limit` slots at once, waiters
 * served in order. The same seam as the NATS governor in `corral/nats`, for tests and
 * for code that should not care which one it has.
 */
import { checkInteger } from '../util/validate.js';
import { WaiterQueue } from '../util/waiters.js';
import type { ConcurrencyGovernor, Slot, StartOptions } from './governor.js';

export class LocalGovernor implements ConcurrencyGovernor {
  readonly #limit: number;
  /** Slots held. */
  #active = 0;
  #nextSeq = 1;
  /** Campaigns waiting, oldest first. */
  readonly #waiting = new WaiterQueue<Slot>();

  constructor(limit: number) {
    this.#limit = checkInteger('limit', limit, 1);
  }

  /** Slots held now. */
  get active(): number {
    return this.#active;
  }

  start(options: StartOptions = {}): Promise<Slot> {
    const slot = this.#waiting.wait(options.signal);
    this.#serve();
    return slot;
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
    while (this.#active < this.#limit) {
      const waiter = this.#waiting.shift();
      if (waiter === undefined) return;
      waiter.resolve(this.#slot());
    }
  }
}

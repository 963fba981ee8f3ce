/**
 * The inputs of a stream (the local pool's and the remote pool's), pulled from a sync
 * iterator in a loop or from an async one a pull at a time, while the stream has room.
 *
 * @module
 */

/** What the puller asks of its stream. */
export interface PullTarget<I> {
  /** Whether the stream takes another input now. */
  room(): boolean;
  /** An input, or the source's end. */
  take(result: IteratorResult<I>): void;
  /** The source threw or rejected: the stream ends with `error`. */
  stop(error: unknown): void;
  /**
   * A pass of pulling ended: `waiting` for an async source's next input, or for room (or
   * the source is done). Inputs a stream holds back to send together go now, or soon.
   */
  paused?(waiting: boolean): void;
}

export class SourcePuller<I> {
  readonly #source: Iterator<I> | AsyncIterator<I>;
  readonly #sync: boolean;
  readonly #target: PullTarget<I>;
  #filling = false;
  #pulling = false;

  constructor(source: Iterator<I> | AsyncIterator<I>, sync: boolean, target: PullTarget<I>) {
    this.#source = source;
    this.#sync = sync;
    this.#target = target;
  }

  /** Takes inputs while the stream has room. */
  fill(): void {
    // A job may settle inside submit() (closed pool, too large): no re-entry, no deep recursion.
    if (this.#filling) return;
    this.#filling = true;
    try {
      this.#pull();
    } finally {
      this.#filling = false;
    }
    this.#target.paused?.(this.#pulling);
  }

  // Bound once: a pull per input would otherwise make two closures per input.
  readonly #pulled = (r: IteratorResult<I>): void => {
    this.#pulling = false;
    this.#target.take(r);
    this.fill();
  };

  readonly #failed = (error: unknown): void => {
    this.#pulling = false;
    this.#target.stop(error);
  };

  /** Closes the source; its failing to close changes nothing for the consumer. */
  async close(): Promise<void> {
    try {
      await this.#source.return?.();
    } catch {
      // The source failing to close changes nothing for the consumer.
    }
  }

  #pull(): void {
    const target = this.#target;
    while (!this.#pulling && target.room()) {
      if (this.#sync) {
        let r: IteratorResult<I>;
        try {
          r = (this.#source as Iterator<I>).next();
        } catch (error) {
          target.stop(error);
          return;
        }
        target.take(r);
        continue;
      }
      this.#pulling = true;
      let pending: Promise<IteratorResult<I>>;
      try {
        pending = Promise.resolve((this.#source as AsyncIterator<I>).next());
      } catch (error) {
        this.#pulling = false;
        target.stop(error);
        return;
      }
      pending.then(this.#pulled, this.#failed);
    }
  }
}

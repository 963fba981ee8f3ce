/**
 * The outcomes of a stream (the local pool's and the remote pool's) on their way to its
 * async-iterator consumer: in completion order, or with `ordered` in input order (an
 * outcome that arrives before an earlier index waits), handed straight to a waiting
 * `next()` or queued until one comes.
 *
 * @module
 */
import { Deque } from '../util/deque.js';

export class OutcomeBuffer<O extends { readonly index: number }> {
  readonly #ordered: boolean;
  /** Outcomes ready for the consumer, in the order it gets them. */
  readonly #ready = new Deque<O>();
  /** With `ordered`: outcomes that arrived before an earlier index did. */
  readonly #early = new Map<number, O>();
  #nextIndex = 0;
  #waiter: ((result: IteratorResult<O>) => void) | undefined;
  #waiterReject: ((error: unknown) => void) | undefined;

  constructor(ordered: boolean) {
    this.#ordered = ordered;
  }

  /** Outcomes ready for the consumer. */
  get ready(): number {
    return this.#ready.length;
  }

  /** Outcomes held: ready, or waiting for an earlier index. */
  get held(): number {
    return this.#ready.length + this.#early.size;
  }

  /** Whether a `next()` waits for an outcome. */
  get waiting(): boolean {
    return this.#waiter !== undefined;
  }

  /** Takes in a settled job's outcome. */
  add(outcome: O): void {
    if (!this.#ordered) this.#deliver(outcome);
    else if (outcome.index !== this.#nextIndex) this.#early.set(outcome.index, outcome);
    else {
      this.#deliver(outcome);
      for (
        let o = this.#early.get(++this.#nextIndex);
        o !== undefined;
        o = this.#early.get(++this.#nextIndex)
      ) {
        this.#early.delete(o.index);
        this.#deliver(o);
      }
    }
  }

  /** The next ready outcome, if any. */
  shift(): O | undefined {
    return this.#ready.shift();
  }

  /** A `next()` that waits for the next outcome or for {@link end}. */
  wait(): Promise<IteratorResult<O>> {
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#waiterReject = reject;
    });
  }

  /** Settles the waiting `next()` as `end` does (done, or the stream's error). */
  end(end: Promise<IteratorResult<O>>): void {
    const resolve = this.#waiter;
    const reject = this.#waiterReject;
    this.#waiter = undefined;
    this.#waiterReject = undefined;
    if (resolve !== undefined) void end.then(resolve, reject);
  }

  /** Drops every outcome held: the stream was left or aborted. */
  clear(): void {
    this.#ready.drain();
    this.#early.clear();
  }

  #deliver(outcome: O): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    this.#waiterReject = undefined;
    if (waiter !== undefined) waiter({ value: outcome, done: false });
    else this.#ready.push(outcome);
  }
}

/**
 * A host's side of the shared pull consumer: it asks for job messages only while it has
 * fewer than its limit with jobs still to run, counting the messages it has asked for and
 * not yet received among them. So a host claims what its threads have room for, and a host
 * that dies puts little in doubt; a host started mid-run has a pull request waiting at
 * once and takes its share. A message whose jobs are done but whose results are still
 * being stored no longer takes room (its threads are free), but the host holds at most
 * twice its limit in all.
 *
 * A pull request is never cut short: messages the server sends to a request the host no
 * longer listened to would come back only after the ack wait, as redeliveries that count
 * as tries. Draining therefore stops asking and waits for open requests to expire
 * ({@link PULL_EXPIRES} at most), running whatever they still bring.
 *
 * @module
 */
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import { sleep } from '../shared/backoff.js';

/** How long one pull request waits on the server for messages, in ms. */
export const PULL_EXPIRES = 2000;
/** Pause after a failed pull (server restarting, consumer missing), in ms. */
const PULL_RETRY = 250;

/** Pulls messages while there is room; hands each to `take`. */
export class Claimer {
  readonly #consumer: Consumer;
  /** Messages with jobs to run the host may hold now, requests included. */
  readonly #limit: () => number;
  readonly #take: (message: JsMsg) => void;
  readonly #onError: (error: unknown) => void;
  /** Messages received whose jobs are not all done. */
  #held = 0;
  /** Messages whose jobs are done, not yet acked. */
  #storing = 0;
  /** Messages asked for in open pull requests and not yet received. */
  #requested = 0;
  /** Open pull requests. */
  #open = 0;
  #stopped = false;
  /** Wakes the loop when room appears or the claimer stops. */
  #wake: (() => void) | undefined;
  /** Resolves when the loop has ended and every open request has ended. */
  readonly #done: Promise<void>;
  #resolveDone: () => void = () => undefined;

  constructor(
    consumer: Consumer,
    limit: () => number,
    take: (message: JsMsg) => void,
    onError: (error: unknown) => void,
  ) {
    this.#consumer = consumer;
    this.#limit = limit;
    this.#take = take;
    this.#onError = onError;
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
    void this.#loop();
  }

  /** A message received was let go at once (a second delivery of one held, or unreadable). */
  dropped(): void {
    this.#held--;
    this.#signal();
  }

  /** A held message's jobs are all done: there is room for another. */
  finished(): void {
    this.#held--;
    this.#storing++;
    this.#signal();
  }

  /** A finished message was acked (or let go). */
  acked(): void {
    this.#storing--;
    this.#signal();
  }

  /** Asks for nothing more; resolves once every open pull request has ended. */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#signal();
    return this.#done;
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      const limit = this.#limit();
      const want = Math.min(
        limit - this.#held - this.#requested,
        2 * limit - this.#held - this.#storing - this.#requested,
      );
      if (want <= 0) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      this.#requested += want;
      this.#open++;
      void this.#pull(want);
    }
    if (this.#open === 0) this.#resolveDone();
  }

  async #pull(count: number): Promise<void> {
    let left = count;
    let failed = false;
    try {
      const messages = await this.#consumer.fetch({ max_messages: count, expires: PULL_EXPIRES });
      for await (const message of messages) {
        left--;
        this.#requested--;
        this.#held++;
        this.#take(message);
      }
    } catch (error) {
      failed = true;
      this.#onError(error);
    }
    // The pause keeps a host whose server is away from spinning on failed pulls.
    if (failed) await sleep(PULL_RETRY);
    this.#requested -= left;
    this.#open--;
    if (this.#stopped && this.#open === 0) this.#resolveDone();
    this.#signal();
  }
}

/**
 * A host's side of the shared pull consumer, and the one count of what the host holds: it
 * asks for job messages only while it has fewer than its limit with jobs still to run, counting the messages it has asked for and
 * not yet received among them. So a host claims what its threads have room for, and a host
 * that dies puts little in doubt; a host started mid-run has a pull request waiting at
 * once and takes its share. A message whose jobs are done but whose results are still
 * being stored (or its ack confirmed) no longer takes room (its threads are free), but the
 * host holds at most twice its limit in all. The limit follows the messages' sizes: enough
 * messages to fill every thread slot and the jobs the host queues on its pool ahead of them
 * (its lookahead), plus {@link SPARE_MESSAGES}.
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

/**
 * Messages with jobs to run a host holds beyond those its thread slots are busy with: one
 * ready while the others run, so that no thread waits for a pull, and few that a lost host
 * had not started.
 */
const SPARE_MESSAGES = 1;

/** Pulls messages while there is room; hands each to `take`. */
export class Claimer {
  readonly #consumer: Consumer;
  /** Thread slots of the host (threads x concurrency). */
  readonly #slots: number;
  readonly #take: (message: JsMsg) => void;
  readonly #onError: (error: unknown) => void;
  /** Jobs the host queues on its pool ahead of its slots now (see the host's runner). */
  readonly #ahead: () => number;
  /**
   * Jobs per message lately (a moving average): a message of many small jobs keeps every
   * slot busy by itself, one of a single job only one slot; the limit is sized by it.
   */
  #jobsPerMessage = 1;
  /** Held messages (by stream sequence) whose jobs are not all done. */
  readonly #running = new Set<number>();
  /** Held messages whose jobs are done, not yet acked for sure. */
  readonly #storing = new Set<number>();
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
    slots: number,
    take: (message: JsMsg) => void,
    onError: (error: unknown) => void,
    ahead: () => number = () => 0,
  ) {
    this.#consumer = consumer;
    this.#slots = slots;
    this.#take = take;
    this.#onError = onError;
    this.#ahead = ahead;
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
    void this.#loop();
  }

  /** Jobs per message lately (for the host's stats snapshot). */
  get jobsPerMessage(): number {
    return this.#jobsPerMessage;
  }

  /** Messages held: jobs running, or results being stored and acked. */
  get held(): number {
    return this.#running.size + this.#storing.size;
  }

  /** The host holds message `seq` of `jobs` jobs, to run. */
  holding(seq: number, jobs: number): void {
    this.#running.add(seq);
    this.#jobsPerMessage = 0.8 * this.#jobsPerMessage + 0.2 * Math.max(1, jobs);
  }

  /** Message `seq`'s jobs are all done: there is room for another. Idempotent. */
  finished(seq: number): void {
    if (!this.#running.delete(seq)) return;
    this.#storing.add(seq);
    this.#signal();
  }

  /** Message `seq` was acked for sure, or let go. Idempotent. */
  released(seq: number): void {
    if (this.#running.delete(seq) || this.#storing.delete(seq)) this.#signal();
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
      // With tiny jobs the lookahead is two messages: without them counted, the next message
      // was pulled only once one ran out, and a thread waited for its pull and its mark.
      const limit =
        Math.ceil((this.#slots + this.#ahead()) / this.#jobsPerMessage) + SPARE_MESSAGES;
      const running = this.#running.size;
      const want = Math.min(
        limit - running - this.#requested,
        2 * limit - running - this.#storing.size - this.#requested,
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
        // The host tells which it holds (see holding()): a second delivery of one held, or
        // an unreadable one, takes no room.
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

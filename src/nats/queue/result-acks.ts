/**
 * How a client acks the result messages it has read.
 *
 * An ack is a message the server handles like any other, so one ack per result message
 * cost the server as much as the result's own delivery. Where the results consumer acks
 * all (`AckPolicy.All`), one ack covers every result before it: results are acked in
 * batches, at most {@link ACK_DELAY} ms after the first unacked one was read, or once
 * {@link ACK_EVERY} are unacked. A result not yet acked when the connection drops (or the
 * server restarts) is delivered again and dropped by the client as a duplicate.
 *
 * Acking all is safe only up to the last result of an unbroken run of deliveries: each
 * delivery carries the consumer's delivery sequence, and a gap in it means a delivery was
 * lost on the way (connection dropped, slow consumer), whose result an ack after it would
 * remove unread. So an ack never goes past a gap, and {@link ResultAcks.read} reports it:
 * the client then makes a new consumer, which delivers again every result not acked.
 *
 * An ack does not remove a result from a stream of limits retention (one of work-queue
 * retention takes explicit acks only, and one of interest retention lost results stored
 * across a nats-server 2.9 restart): the client purges what it acked, see
 * {@link ResultAcks.acked}.
 *
 * On a consumer with explicit acks (a results stream made by an older version, of
 * work-queue retention) each result is acked as it is read, and leaves the stream so.
 *
 * @module
 */
import type { JsMsg } from '@nats-io/jetstream';

/** Longest an ack waits for more results to cover, in ms. */
export const ACK_DELAY = 500;
/** Results one ack covers at most. */
export const ACK_EVERY = 128;

/**
 * One client's acks of its result messages: in batches on an ack-all consumer, never past a
 * missed delivery; one by one on an explicit one.
 */
export class ResultAcks {
  /** One ack covers all results before it (else each is acked). */
  readonly #ackAll: boolean;
  /** The consumer whose deliveries are tracked (a remade one starts afresh). */
  #consumer: string;
  /** The delivery sequence of the last delivery read with none missing before it. */
  #delivered = 0;
  /** A delivery was missed: nothing from it on may be acked by this consumer. */
  #broken = false;
  /** The latest result that may be acked and is not yet. */
  #latest: JsMsg | undefined;
  /** Results {@link ResultAcks.#latest}'s ack would cover. */
  #unacked = 0;
  /** Sends the ack pending. */
  #timer: NodeJS.Timeout | undefined;
  /** The stream sequence of the last result acked with ack-all (0: none yet). */
  #acked = 0;
  /** Set by {@link ResultAcks.stop}: no ack is sent from then on. */
  #stopped = false;
  /** Hears each ack-all sent, with the stream sequence it covers up to. */
  readonly #onAcked: (seq: number) => void;

  constructor(ackAll: boolean, consumer: string, onAcked: (seq: number) => void = () => undefined) {
    this.#ackAll = ackAll;
    this.#consumer = consumer;
    this.#onAcked = onAcked;
  }

  /**
   * The stream sequence up to which every result was read and acked (0: none yet, or
   * explicit acks): a new consumer may start after it, and the client purge up to it.
   */
  get acked(): number {
    return this.#acked;
  }

  /** Whether one ack covers all results before it. */
  get ackAll(): boolean {
    return this.#ackAll;
  }

  /** Results are read from `consumer` from now on, a new one: its deliveries count from 1. */
  reset(consumer: string): void {
    this.#clear();
    this.#latest = undefined;
    this.#unacked = 0;
    this.#consumer = consumer;
    this.#delivered = 0;
    this.#broken = false;
  }

  /**
   * The results stream was made again (deleted by hand, or its store lost): it numbers its
   * messages from 1 anew, so what was acked of the old one says nothing of it.
   */
  streamRemade(): void {
    this.#acked = 0;
  }

  /**
   * A result message was read (and the jobs it settles settled). Returns false if a
   * delivery before it was missed: the consumer must be remade to have it again.
   */
  read(message: JsMsg): boolean {
    // Deliveries may still come in after the client stopped (closed, or failed): none is acked.
    if (this.#stopped) return true;
    if (!this.#ackAll) {
      message.ack();
      return true;
    }
    const { consumer, deliverySequence } = message.info;
    // A delivery of a consumer already replaced: the new one delivers it again if unacked.
    if (consumer !== this.#consumer) return true;
    if (this.#broken) return false;
    if (deliverySequence !== this.#delivered + 1) {
      this.#broken = true;
      this.flush();
      return false;
    }
    this.#delivered = deliverySequence;
    this.#latest = message;
    if (++this.#unacked >= ACK_EVERY) this.flush();
    else
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, ACK_DELAY).unref();
    return true;
  }

  /** Acks now what may be acked. */
  flush(): void {
    this.#clear();
    if (this.#stopped) return;
    const latest = this.#latest;
    this.#latest = undefined;
    this.#unacked = 0;
    if (latest === undefined) return;
    try {
      latest.ack();
    } catch {
      return; // the connection closed: the client fails every job, nothing is left to ack for
    }
    this.#acked = Math.max(this.#acked, latest.seq);
    this.#onAcked(this.#acked);
  }

  /** Sends no ack from now on (the client closed: its consumer is deleted). */
  stop(): void {
    this.#stopped = true;
    this.#clear();
    this.#latest = undefined;
  }

  #clear(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

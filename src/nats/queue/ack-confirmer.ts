/**
 * A host's acks, confirmed. A fire-and-forget ack can be lost without a trace: for a while
 * after a nats-server receives SIGTERM it still passes messages on while JetStream has
 * stopped, and an ack sent then is dropped; the message comes back after the ack wait and
 * its jobs run again. So each ack is a request the server answers, and one that is not
 * answered is sent again (at once after a reconnection, else after a pause) until it is.
 *
 * Acks are pipelined: each is its own request on the connection's shared reply inbox, many
 * in flight at once, so confirming costs a reply per message and no round trip in a row.
 * `JsMsg.ackAck()` is not used: after one that failed, the message refuses to ack or renew
 * again (its `didAck` flag), so the ack goes straight to the message's reply subject.
 *
 * @module
 */
import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '../shared/connection.js';
import { retryDelay, sleep } from '../shared/backoff.js';

/** The ack payload JetStream reads on a message's reply subject. */
const ACK = new TextEncoder().encode('+ACK');
/** The first pause before an unanswered ack is sent again, in ms; pauses double up to {@link MAX_RETRY}. */
const FIRST_RETRY = 100;
const MAX_RETRY = 1000;

/** Confirms acks until they are answered or it is stopped. */
export class AckConfirmer {
  readonly #nc: NatsConnection;
  /** How long one ack waits for its answer, in ms. */
  readonly #timeout: number;
  /** Aborted on stop: acks waiting to be sent again give up. */
  readonly #stop = new AbortController();
  /** Ends the pauses of acks waiting to be sent again (a reconnection). */
  #retryNow = new AbortController();
  /** Acks sent again because the first was not answered. */
  retries = 0;

  constructor(nc: NatsConnection, timeout: number) {
    this.#nc = nc;
    this.#timeout = timeout;
  }

  /**
   * Acks `message`. Resolves once the server has answered; rejects only when stopped (the
   * message is then left to its ack wait).
   */
  async confirm(message: JsMsg): Promise<void> {
    const reply = replyOf(message);
    for (let attempt = 0; ; attempt++) {
      if (this.#stop.signal.aborted) throw this.#stop.signal.reason;
      const retryNow = this.#retryNow.signal;
      try {
        await this.#nc.request(reply, ACK, { timeout: this.#timeout });
        return;
      } catch {
        // Unanswered (timeout, no responders while JetStream starts, a disconnection).
      }
      this.retries++;
      await sleep(
        retryDelay(attempt, FIRST_RETRY, MAX_RETRY),
        AbortSignal.any([this.#stop.signal, retryNow]),
      ).catch(() => undefined);
    }
  }

  /** The connection came back: acks waiting to be sent again go now. */
  reconnected(): void {
    const now = this.#retryNow;
    this.#retryNow = new AbortController();
    now.abort();
  }

  /** Stops: acks not yet answered give up. */
  stop(reason: Error): void {
    this.#stop.abort(reason);
  }
}

/** The subject a message is acked on: the implementation has it, the `JsMsg` type does not. */
function replyOf(message: JsMsg): string {
  const reply = (message as { reply?: unknown }).reply;
  if (typeof reply !== 'string' || reply === '') {
    throw new Error('a JetStream message without a reply subject cannot be acked');
  }
  return reply;
}

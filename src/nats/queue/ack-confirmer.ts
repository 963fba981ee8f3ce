/**
 * A host's acks, confirmed. A fire-and-forget ack can be lost without a trace: for a while
 * after a nats-server receives SIGTERM it still passes messages on while JetStream has
 * stopped, and an ack sent then is dropped; the message comes back after the ack wait and
 * its jobs run again. So each ack is a request the server answers, and one that is not
 * answered is sent again (at once after a reconnection, else after a pause) until it is.
 *
 * Acks are pipelined: each is sent with a reply subject under the confirmer's own inbox, many
 * in flight at once, so confirming costs a reply per message and no round trip in a row.
 * `JsMsg.ackAck()` is not used: after one that failed, the message refuses to ack or renew
 * again (its `didAck` flag), so the ack goes straight to the message's reply subject. Nor is
 * `nc.request()`: per request it arms a timer and, once answered, builds an error with a
 * stack to reject its settled promise (about 15-30 µs of CPU per request on this machine,
 * `bench/README.md`); one subscription and one sweep of the unanswered acks cost less.
 *
 * @module
 */
import type { JsMsg } from '@nats-io/jetstream';
import { performance } from 'node:perf_hooks';
import { privateInbox, type NatsConnection } from '../shared/connection.js';
import { retryDelay, sleep } from '../shared/backoff.js';
import { InFlight } from './in-flight.js';

/** The ack payload JetStream reads on a message's reply subject. */
const ACK = new TextEncoder().encode('+ACK');
/** The first pause before an unanswered ack is sent again, in ms; pauses double up to {@link MAX_RETRY}. */
const FIRST_RETRY = 100;
const MAX_RETRY = 1000;

/** An ack sent and not yet answered. */
interface Pending {
  /** `performance.now()` when it was sent. */
  readonly sentAt: number;
  /** Settles its send: true if answered, false if it must be sent again. */
  readonly settle: (answered: boolean) => void;
}

/** Confirms acks until they are answered or it is stopped. */
export class AckConfirmer {
  readonly #nc: NatsConnection;
  /** Aborted on stop: acks waiting to be sent again give up. */
  readonly #stop = new AbortController();
  /** Ends the pauses of acks waiting to be sent again (a reconnection). */
  #retryNow = new AbortController();
  /** The subject prefix the answers come to: one token per ack follows it. */
  readonly #inbox: string;
  /** Receives every answer; made on the first ack. */
  #subscription: { unsubscribe(): void } | undefined;
  /** Acks sent and not yet answered, by their reply token; unanswered ones sent again. */
  readonly #pending: InFlight<Pending>;
  /** The reply token of the next ack sent. */
  #next = 0;
  /** Acks sent again because the first was not answered. */
  retries = 0;

  constructor(nc: NatsConnection, timeout: number) {
    this.#nc = nc;
    this.#pending = new InFlight(timeout, (pending) => {
      pending.settle(false);
    });
    this.#inbox = privateInbox(nc);
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
      // Unanswered: a timeout, no responders while JetStream starts, a disconnection.
      if (await this.#send(reply)) return;
      this.retries++;
      await sleep(
        retryDelay(attempt, FIRST_RETRY, MAX_RETRY),
        AbortSignal.any([this.#stop.signal, retryNow]),
      ).catch(() => undefined);
    }
  }

  /** Sends one ack; resolves to whether the server answered it in time. */
  #send(reply: string): Promise<boolean> {
    return new Promise((resolve) => {
      const token = String(this.#next++);
      try {
        this.#subscribe();
        this.#nc.publish(reply, ACK, { reply: `${this.#inbox}.${token}` });
      } catch {
        resolve(false);
        return;
      }
      this.#pending.add(token, { sentAt: performance.now(), settle: resolve });
    });
  }

  #subscribe(): void {
    if (this.#subscription !== undefined) return;
    this.#subscription = this.#nc.subscribe(`${this.#inbox}.*`, {
      callback: (error, answer) => {
        if (error !== null) return;
        const pending = this.#pending.take(answer.subject.slice(this.#inbox.length + 1));
        // A status instead of JetStream's answer ("no responders" while JetStream starts):
        // not stored, so sent again.
        const status = answer.headers?.code ?? 0;
        pending?.settle(status === 0 || (status >= 200 && status < 300));
      },
    });
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
    for (const pending of this.#pending.takeAll()) pending.settle(false);
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
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

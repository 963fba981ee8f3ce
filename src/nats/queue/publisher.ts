/**
 * Publishing to a stream so that a message is stored exactly once, even across a server
 * restart: every message carries a message id, and a publish whose answer is lost (it times
 * out, or the connection drops) is sent again with the same id until the server answers.
 * If the first send was stored, JetStream's duplicate window makes the retry a no-op.
 *
 * Publishes are pipelined as the `AckConfirmer`'s acks are: each is sent with a reply
 * subject under the publisher's own inbox, answers are matched by their token, and one sweep
 * finds those unanswered in time. `js.publish()` is not used: per publish it makes a
 * `nc.request()` (a timer, a deferred, and an error with a stack built to reject the settled
 * request), a headers map encoded on each send and a `TextDecoder` to read the answer; this
 * runs several times per job message on the host's main thread (started mark, results).
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { PubAck } from '@nats-io/jetstream';
import { privateInbox, type NatsConnection } from '../shared/connection.js';
import { retryDelay } from '../shared/backoff.js';
import { apiCode, ApiCode } from '../shared/jetstream-errors.js';
import { QueueConnectionClosedError } from './errors.js';
import { InFlight } from './in-flight.js';
import { PublishHeaders, readAnswer, type Answer } from './publish-wire.js';

/** The first pause before publishing again, in ms; pauses double up to {@link MAX_RETRY}. */
const FIRST_RETRY = 100;
const MAX_RETRY = 2000;
/** How long a publish waits for its answer by default, in ms: the JetStream client's default. */
const TIMEOUT = 5000;
/**
 * How long "no responders" is taken for a stream still starting (after a restart, or a
 * leader election) before it is taken for a stream that is gone, in ms.
 */
const STREAM_WAIT = 30_000;

/** Timings of a {@link DurablePublisher}; the defaults are for production, tests shorten them. */
export interface PublisherOptions {
  /**
   * How long a publish waits for its answer before it is sent again, in ms (up to a quarter
   * more: the sweep's step).
   * @default 5000
   */
  readonly timeout?: number;
  /**
   * How long "no responders" in a row is retried before a publish rejects, in ms.
   * @default 30000
   */
  readonly streamWait?: number;
}

/** No stream answered a publish for the whole wait: none stores its subject. */
class NoStreamAnsweredError extends Error {
  constructor(subject: string, waited: number) {
    super(`no responders: no stream answered a publish to '${subject}' for ${waited} ms`);
    // The name `isNoResponders()` reads, as it reads the NATS client's own.
    this.name = 'NoResponders';
  }
}

/** A publish not yet answered for good. */
interface Publish {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: PublishHeaders;
  readonly resolve: (ack: PubAck) => void;
  readonly reject: (error: unknown) => void;
  /** Sends in a row that failed in passing: the exponent of the next pause. */
  failures: number;
  /** When "no responders" began, in a row: a stream gone for good is not waited for forever. */
  noRespondersSince: number | undefined;
  /** `performance.now()` at its last send. */
  sentAt: number;
  /** The pause before it is sent again, while it waits. */
  pause: NodeJS.Timeout | undefined;
}

/** A publisher that retries passing failures with the same message id. */
export class DurablePublisher {
  readonly #nc: NatsConnection;
  readonly #streamWait: number;
  /** The subject prefix the answers come to, dot included: one token per send follows it. */
  readonly #inbox: string;
  /** Receives every answer; made on the first publish. */
  #subscription: { unsubscribe(): void } | undefined;
  /** The connection's status events, watched for reconnections while subscribed. */
  #statuses: AsyncIterable<{ type: string }> | undefined;
  /** Publishes sent and not yet answered, by their reply token; unanswered ones sent again. */
  readonly #inFlight: InFlight<Publish>;
  /** Publishes pausing before they are sent again. */
  readonly #waiting = new Set<Publish>();
  /** The reply token of the next send. */
  #next = 0;
  /** Why every publish rejects from now on: closed, or the connection closed. */
  #stopped: Error | undefined;
  /** Publishes sent again after a passing failure. */
  retries = 0;

  constructor(nc: NatsConnection, options: PublisherOptions = {}) {
    this.#nc = nc;
    this.#inFlight = new InFlight(options.timeout ?? TIMEOUT, (publish) => {
      publish.noRespondersSince = undefined;
      this.#sendLater(publish);
    });
    this.#streamWait = options.streamWait ?? STREAM_WAIT;
    this.#inbox = `${privateInbox(nc)}.`;
  }

  /**
   * Stores `data` on `subject` once. Retries timeouts, disconnections (at once on
   * reconnecting), "temporarily unavailable" and "no responders" (a stream leader not elected
   * yet after a restart; for 30 s) while the connection is open; rejects on anything else,
   * when the connection closes, or on {@link close}. With `lastSubjectSequence`, stores it
   * only if the subject's last message has that sequence (0: none), and rejects with
   * JetStream's "wrong last sequence" (code 10071) otherwise.
   */
  publish(
    subject: string,
    data: Uint8Array,
    msgID: string,
    lastSubjectSequence?: number,
  ): Promise<PubAck> {
    const stopped = this.#stopped;
    if (stopped !== undefined) return Promise.reject(stopped);
    return new Promise((resolve, reject) => {
      this.#send({
        subject,
        data,
        headers: new PublishHeaders(msgID, lastSubjectSequence),
        resolve,
        reject,
        failures: 0,
        noRespondersSince: undefined,
        sentAt: 0,
        pause: undefined,
      });
    });
  }

  #send(publish: Publish): void {
    const token = (this.#next++).toString(36);
    try {
      this.#subscribe();
      this.#nc.publish(publish.subject, publish.data, {
        reply: this.#inbox + token,
        headers: publish.headers,
      });
    } catch (error) {
      // The connection closed, or the message is larger than the server takes: final.
      publish.reject(error);
      return;
    }
    publish.sentAt = performance.now();
    this.#inFlight.add(token, publish);
  }

  #subscribe(): void {
    if (this.#subscription !== undefined) return;
    this.#subscription = this.#nc.subscribe(`${this.#inbox}*`, {
      callback: (error, answer) => {
        if (error === null) this.#answered(answer);
      },
    });
    const statuses = this.#nc.status();
    this.#statuses = statuses;
    void (async () => {
      for await (const status of statuses) {
        if (status.type === 'reconnect') this.#sendAllAgain();
      }
    })();
    void this.#nc.closed().then((error) => {
      this.#stop(new QueueConnectionClosedError(error === undefined ? {} : { cause: error }));
    });
  }

  #answered(answer: Answer): void {
    const token = answer.subject.slice(this.#inbox.length);
    const publish = this.#inFlight.take(token);
    if (publish === undefined) return; // swept out, or sent again since
    const outcome = readAnswer(answer);
    switch (outcome.kind) {
      case 'stored':
        publish.resolve(outcome.ack);
        return;
      case 'no-responders': {
        const now = performance.now();
        publish.noRespondersSince ??= now;
        if (now - publish.noRespondersSince < this.#streamWait) this.#sendLater(publish);
        else publish.reject(new NoStreamAnsweredError(publish.subject, this.#streamWait));
        return;
      }
      case 'refused':
        publish.noRespondersSince = undefined;
        if (apiCode(outcome.error) === ApiCode.TemporarilyUnavailable) this.#sendLater(publish);
        else publish.reject(outcome.error);
        return;
      default:
        outcome satisfies never;
    }
  }

  /** Sends `publish` again after a pause that grows with its failures in a row. */
  #sendLater(publish: Publish): void {
    this.retries++;
    this.#waiting.add(publish);
    publish.pause = setTimeout(
      () => {
        this.#waiting.delete(publish);
        publish.pause = undefined;
        this.#send(publish);
      },
      retryDelay(publish.failures++, FIRST_RETRY, MAX_RETRY),
    );
  }

  /**
   * The connection came back: answers to what was in flight are lost with the old one, and
   * what waits need not wait, so everything unanswered goes now (with its message id: those
   * that were stored answer as duplicates).
   */
  #sendAllAgain(): void {
    const again = [...this.#inFlight.takeAll(), ...this.#waiting];
    this.#waiting.clear();
    for (const publish of again) {
      clearTimeout(publish.pause);
      publish.pause = undefined;
      this.retries++;
      this.#send(publish);
    }
  }

  /** Stops: publishes not yet answered reject with `reason`, and so does every later one. */
  close(reason: Error): void {
    this.#stop(reason);
  }

  #stop(reason: Error): void {
    if (this.#stopped !== undefined) return;
    this.#stopped = reason;
    const pending = [...this.#inFlight.takeAll(), ...this.#waiting];
    this.#waiting.clear();
    for (const publish of pending) {
      clearTimeout(publish.pause);
      publish.reject(reason);
    }
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
    // QueuedIterator's stop(): the connection outlives the publisher.
    (this.#statuses as { stop?: () => void } | undefined)?.stop?.();
    this.#statuses = undefined;
  }
}

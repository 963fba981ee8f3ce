/**
 * Publishing to a stream so that a message is stored exactly once, even across a server
 * restart: every message carries a message id, and a publish whose reply is lost (it times
 * out, or the connection drops) is sent again with the same id until the server answers.
 * If the first send was stored, JetStream's duplicate window makes the retry a no-op.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { retryDelay, sleep } from '../shared/backoff.js';
import { isNoResponders, isTransient } from '../shared/jetstream-errors.js';

/** The first wait before publishing again, in ms; waits double up to {@link MAX_RETRY}. */
const FIRST_RETRY = 100;
const MAX_RETRY = 2000;
/**
 * How long "no responders" is taken for a stream still starting (after a restart, or a
 * leader election) before it is taken for a stream that is gone, in ms.
 */
const MAX_UNANSWERED_MS = 30_000;

/** Something that tells whether the connection has closed for good. */
export interface ClosedCheck {
  isClosed(): boolean;
}

/** A publisher that retries passing failures with the same message id. */
export class DurablePublisher {
  readonly #js: JetStreamClient;
  readonly #nc: ClosedCheck;
  /** Aborted on close: pending retries give up. */
  readonly #stop = new AbortController();
  /** Publishes sent again after a passing failure. */
  retries = 0;

  constructor(js: JetStreamClient, nc: ClosedCheck) {
    this.#js = js;
    this.#nc = nc;
  }

  /**
   * Stores `data` on `subject` once. Retries timeouts, disconnections and "no responders"
   * (a stream leader not elected yet after a restart; for 30 s) while the connection is
   * open; rejects on anything else, when the connection closes, or after {@link close}.
   * With `lastSubjectSequence`, stores it only if the subject's last message has that
   * sequence (0: none), and rejects with JetStream's "wrong last sequence" otherwise.
   */
  async publish(
    subject: string,
    data: Uint8Array,
    msgID: string,
    lastSubjectSequence?: number,
  ): Promise<PubAck> {
    const options =
      lastSubjectSequence === undefined ? { msgID } : { msgID, expect: { lastSubjectSequence } };
    /** When "no responders" began, in a row: a stream gone for good is not waited for forever. */
    let unanswered: number | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#js.publish(subject, data, options);
      } catch (error) {
        const noResponders = isNoResponders(error);
        unanswered = noResponders ? (unanswered ?? performance.now()) : undefined;
        const passing =
          isTransient(error) ||
          (noResponders && performance.now() - (unanswered ?? 0) < MAX_UNANSWERED_MS);
        if (!passing || this.#nc.isClosed() || this.#stop.signal.aborted) throw error;
      }
      this.retries++;
      await sleep(retryDelay(attempt, FIRST_RETRY, MAX_RETRY), this.#stop.signal);
    }
  }

  /** Stops retrying: publishes waiting to retry reject with the reason. */
  close(reason: Error): void {
    this.#stop.abort(reason);
  }
}

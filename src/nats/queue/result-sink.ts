/**
 * A host's outgoing results: buffered per client, published to that client's results
 * subject in batches (bounded in bytes), each batch stored durably before the job messages
 * it completes are acked. A batch goes out when a job message's last result joins it, when
 * it is full, or at the latest {@link LINGER_MS} after its first result, so that the
 * results of a long message are not all held back until its end.
 *
 * @module
 */
import type { PubAck } from '@nats-io/jetstream';
import { encodeResults, type WireResult } from './codec.js';
import type { DurablePublisher } from './publisher.js';

/** The longest a result waits in the buffer, in ms. */
const LINGER_MS = 20;

/** Whatever a result belongs to: told when its result is stored. */
export interface ResultOwner {
  /** One more of its results is stored. */
  stored(): void;
}

interface Buffer {
  readonly entries: { owner: ResultOwner; result: WireResult }[];
  bytes: number;
  timer: NodeJS.Timeout | undefined;
  /** A flush is scheduled for the next turn of the event loop. */
  soon: boolean;
}

/** Buffers and publishes one host's results. */
export class ResultSink {
  readonly #publisher: DurablePublisher;
  readonly #subject: (clientId: string) => string;
  readonly #hostId: string;
  /** The most payload bytes one result message carries. */
  readonly #maxBytes: number;
  readonly #runMs: () => number;
  /** Told when a batch could not be stored (the connection closed): its owners stay unacked. */
  readonly #onFailed: (error: unknown) => void;
  readonly #buffers = new Map<string, Buffer>();
  /** Message ids used so far: each batch gets the next. */
  #batches = 0;
  /** Publishes in flight. */
  #publishing = 0;
  #idle: (() => void) | undefined;

  constructor(init: {
    publisher: DurablePublisher;
    subject: (clientId: string) => string;
    hostId: string;
    maxBytes: number;
    runMs: () => number;
    onFailed: (error: unknown) => void;
  }) {
    this.#publisher = init.publisher;
    this.#subject = init.subject;
    this.#hostId = init.hostId;
    this.#maxBytes = init.maxBytes;
    this.#runMs = init.runMs;
    this.#onFailed = init.onFailed;
  }

  /**
   * Adds a result for `clientId`. `last` says it completes its job message: the batch then
   * goes out on the next turn of the event loop (with whatever else completes by then).
   */
  add(clientId: string, owner: ResultOwner, result: WireResult, last: boolean): void {
    let buffer = this.#buffers.get(clientId);
    if (buffer === undefined) {
      buffer = { entries: [], bytes: 0, timer: undefined, soon: false };
      this.#buffers.set(clientId, buffer);
    }
    const size = result.payload.length + 16;
    if (buffer.entries.length > 0 && buffer.bytes + size > this.#maxBytes) {
      this.#flush(clientId, buffer);
    }
    buffer.entries.push({ owner, result });
    buffer.bytes += size;
    if (last && !buffer.soon) {
      buffer.soon = true;
      const b = buffer;
      setImmediate(() => {
        b.soon = false;
        this.#flush(clientId, b);
      });
    } else if (buffer.timer === undefined) {
      const b = buffer;
      buffer.timer = setTimeout(() => {
        b.timer = undefined;
        this.#flush(clientId, b);
      }, LINGER_MS);
    }
  }

  /** Resolves once nothing is buffered or being published. */
  idle(): Promise<void> {
    for (const [clientId, buffer] of this.#buffers) this.#flush(clientId, buffer);
    if (this.#publishing === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#idle = resolve));
  }

  #flush(clientId: string, buffer: Buffer): void {
    if (buffer.timer !== undefined) clearTimeout(buffer.timer);
    buffer.timer = undefined;
    if (buffer.entries.length === 0) return;
    const entries = buffer.entries.splice(0);
    buffer.bytes = 0;
    // A scheduled flush of this buffer finds it empty; a later result starts a new one.
    if (this.#buffers.get(clientId) === buffer) this.#buffers.delete(clientId);
    const data = encodeResults(
      this.#hostId,
      this.#runMs(),
      entries.map((e) => e.result),
    );
    const msgID = `${this.#hostId}.${++this.#batches}`;
    this.#publishing++;
    this.#publisher.publish(this.#subject(clientId), data, msgID).then(
      (_ack: PubAck) => {
        for (const e of entries) e.owner.stored();
        this.#settled();
      },
      (error: unknown) => {
        this.#onFailed(error);
        this.#settled();
      },
    );
  }

  #settled(): void {
    this.#publishing--;
    if (this.#publishing === 0 && this.#idle !== undefined) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }
}

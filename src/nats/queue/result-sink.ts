/**
 * A host's outgoing results: buffered per client, published to that client's results
 * subject in batches, each batch stored durably before the job messages it completes are
 * acked. A batch goes out when a job message's last result joins it, when it holds as many
 * results as fit in a message, or at the latest {@link LINGER_MS} after its first result,
 * so that the results of a long message are not all held back until its end.
 *
 * A batch waits only for results expected before its time is up: when the host's next
 * result is not expected until after it (the host's estimate of a job, shared among its
 * thread slots), the batch goes out at once rather than on its timer. The timer would have
 * sent the same results later, in a wake-up of its own (about 0.2-0.3 ms of a host's CPU:
 * one per job message of two or more 50 ms jobs).
 *
 * A result too large for a message, or that cannot be serialised, is replaced by the
 * error saying so (`ERR_PAYLOAD_TOO_LARGE`, `ERR_DATA_CLONE`): the job fails, the run goes on.
 *
 * @module
 */
import { DataCloneError } from '../../index.js';
import { encodeResults, errorValue, pack, ResultStatus, type WireResult } from './queue-codec.js';
import { PayloadTooLargeError } from './errors.js';
import type { DurablePublisher } from './publisher.js';

/** The longest a result waits in the buffer, in ms. */
const LINGER_MS = 20;
/** Results per message at most, whatever their size. */
const MAX_RESULTS = 1024;

/** Whatever a result belongs to: told when its result is stored. */
export interface ResultOwner {
  /** One more of its results is stored. */
  stored(): void;
}

interface Entry {
  readonly owner: ResultOwner;
  result: WireResult;
}

interface Pending {
  readonly entries: Entry[];
  /** `performance.now()` by which its first result must be sent. */
  deadline: number;
  timer: NodeJS.Timeout | undefined;
  /** A flush is scheduled for the next turn of the event loop. */
  soon: boolean;
}

/** Buffers and publishes one host's results. */
export class ResultSink {
  readonly #publisher: DurablePublisher;
  readonly #subject: (clientId: string) => string;
  readonly #hostId: string;
  /** Bytes a message of several results may have. */
  readonly #maxBytes: number;
  /** Bytes a message of one result may have. */
  readonly #limit: number;
  readonly #runMs: () => number;
  /** The host's thread slots: results come `runMs / slots` apart when all are busy. */
  readonly #slots: number;
  /** Told when a batch could not be stored (the connection closed): its owners stay unacked. */
  readonly #onFailed: (error: unknown) => void;
  readonly #buffers = new Map<string, Pending>();
  /** Bytes per result in recent messages, to cut batches that fit. */
  #bytesPerResult = 64;
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
    limit: number;
    runMs: () => number;
    slots: number;
    onFailed: (error: unknown) => void;
  }) {
    this.#publisher = init.publisher;
    this.#subject = init.subject;
    this.#hostId = init.hostId;
    this.#maxBytes = init.maxBytes;
    this.#limit = init.limit;
    this.#runMs = init.runMs;
    this.#slots = Math.max(1, init.slots);
    this.#onFailed = init.onFailed;
  }

  /**
   * Adds a result for `clientId`. `last` says it completes its job message: the batch then
   * goes out on the next turn of the event loop (with whatever else completes by then).
   */
  add(clientId: string, owner: ResultOwner, result: WireResult, last: boolean): void {
    let buffer = this.#buffers.get(clientId);
    const now = performance.now();
    if (buffer === undefined) {
      buffer = { entries: [], deadline: now + LINGER_MS, timer: undefined, soon: false };
      this.#buffers.set(clientId, buffer);
    }
    buffer.entries.push({ owner, result });
    const fits = Math.min(
      MAX_RESULTS,
      Math.max(1, Math.floor(this.#maxBytes / this.#bytesPerResult)),
    );
    if (buffer.entries.length >= fits) {
      this.#flush(clientId, buffer);
      return;
    }
    if (last || now + this.#runMs() / this.#slots >= buffer.deadline) {
      // Nothing more will join it before its deadline: out on the next turn (with whatever
      // else settles by then).
      if (buffer.soon) return;
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
      }, buffer.deadline - now);
    }
  }

  /** Resolves once nothing is buffered or being published. */
  idle(): Promise<void> {
    for (const [clientId, buffer] of this.#buffers) this.#flush(clientId, buffer);
    if (this.#publishing === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#idle = resolve));
  }

  #flush(clientId: string, buffer: Pending): void {
    if (buffer.timer !== undefined) clearTimeout(buffer.timer);
    buffer.timer = undefined;
    if (buffer.entries.length === 0) return;
    const entries = buffer.entries.splice(0);
    // A scheduled flush of this buffer finds it empty; a later result starts a new one.
    if (this.#buffers.get(clientId) === buffer) this.#buffers.delete(clientId);
    this.#pack(clientId, entries);
  }

  #pack(clientId: string, entries: Entry[]): void {
    const runMs = this.#runMs();
    pack(
      entries,
      (part) =>
        encodeResults(
          this.#hostId,
          runMs,
          part.map((e) => e.result),
        ),
      this.#maxBytes,
      this.#limit,
      {
        message: (part, data) => {
          this.#bytesPerResult = this.#bytesPerResult * 0.7 + (data.length / part.length) * 0.3;
          this.#publish(clientId, part, data);
        },
        tooLarge: (entry, size) => {
          this.#replace(clientId, entry, new PayloadTooLargeError('result', size, this.#limit));
        },
        unserialisable: (entry, error) => {
          this.#replace(clientId, entry, new DataCloneError('result', { cause: error }));
        },
      },
    );
  }

  /** Sends `error` as the result of `entry` instead of what could not be sent. */
  #replace(clientId: string, entry: Entry, error: Error): void {
    const { id, redelivered } = entry.result;
    entry.result = { id, status: ResultStatus.Error, redelivered, value: errorValue(error) };
    this.#pack(clientId, [entry]);
  }

  #publish(clientId: string, entries: Entry[], data: Uint8Array): void {
    const msgID = `${this.#hostId}.${++this.#batches}`;
    this.#publishing++;
    this.#publisher.publish(this.#subject(clientId), data, msgID).then(
      () => {
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

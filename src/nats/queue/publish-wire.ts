/**
 * What a stored publish sends and what JetStream answers, without the JetStream client's
 * request layer: the headers of one publish (its message id and, for a conditional write,
 * the sequence the subject's last message must have), and the answer read as a `PubAck`,
 * a JetStream error, or a status ("no responders": nothing stores the subject yet).
 *
 * @module
 */
import { JetStreamApiError, type PubAck } from '@nats-io/jetstream';
import type { NatsConnection } from '../shared/connection.js';

/** The headers type `nc.publish()` takes, from the connection (corral imports no nats-core). */
type MsgHdrs = NonNullable<NonNullable<Parameters<NatsConnection['publish']>[2]>['headers']>;

/** A message of the connection, as a subscription callback gets it. */
export type Answer = Parameters<
  NonNullable<NonNullable<Parameters<NatsConnection['subscribe']>[1]>['callback']>
>[1];

const MSG_ID = 'Nats-Msg-Id';
const LAST_SUBJECT_SEQUENCE = 'Nats-Expected-Last-Subject-Sequence';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The headers of one publish, encoded once, when it is made: a retry sends the same bytes.
 *
 * nats.js's `MsgHdrsImpl` would be made per publish by the JetStream client, filled through
 * a map and encoded again on every send; `nc.publish()` only calls `encode()` on the headers
 * it is given (nats-core 3.x `ProtocolHandler.publish`), so this read-only set of two headers
 * serves. Changing it throws: it is built whole.
 */
export class PublishHeaders implements MsgHdrs {
  readonly hasError = false;
  readonly status = '';
  readonly code = 0;
  readonly description = '';
  readonly #msgID: string;
  /** The expected last sequence of the subject, as sent; undefined for an unconditional write. */
  readonly #last: string | undefined;
  readonly #bytes: Uint8Array;

  constructor(msgID: string, lastSubjectSequence?: number) {
    if (msgID === '' || /[\r\n]/.test(msgID)) {
      throw new TypeError(`a message id must be a line of text, got ${JSON.stringify(msgID)}`);
    }
    this.#msgID = msgID;
    this.#last = lastSubjectSequence === undefined ? undefined : String(lastSubjectSequence);
    this.#bytes = encoder.encode(
      this.#last === undefined
        ? `NATS/1.0\r\n${MSG_ID}: ${msgID}\r\n\r\n`
        : `NATS/1.0\r\n${MSG_ID}: ${msgID}\r\n${LAST_SUBJECT_SEQUENCE}: ${this.#last}\r\n\r\n`,
    );
  }

  /** The bytes sent: what nats.js's publish asks of its headers. */
  encode(): Uint8Array {
    return this.#bytes;
  }

  get(k: string): string {
    return this.values(k)[0] ?? '';
  }

  last(k: string): string {
    return this.get(k);
  }

  has(k: string): boolean {
    return this.values(k).length > 0;
  }

  keys(): string[] {
    return this.#last === undefined ? [MSG_ID] : [MSG_ID, LAST_SUBJECT_SEQUENCE];
  }

  values(k: string): string[] {
    if (k === MSG_ID) return [this.#msgID];
    if (k === LAST_SUBJECT_SEQUENCE && this.#last !== undefined) return [this.#last];
    return [];
  }

  set(): void {
    throw new TypeError('the headers of a stored publish are read-only');
  }

  append(): void {
    this.set();
  }

  delete(): void {
    this.set();
  }

  *[Symbol.iterator](): Iterator<[string, string[]]> {
    for (const key of this.keys()) yield [key, this.values(key)];
  }
}

/** The status of "no responders": nothing listens on the subject (no stream stores it yet). */
const NO_RESPONDERS = 503;

/** What JetStream's answer to a publish says. */
export type Outcome =
  | { readonly kind: 'stored'; readonly ack: PubAck }
  /** No stream answered: none captures the subject, or its leader is being elected. */
  | { readonly kind: 'no-responders' }
  /** Refused (a JetStream error, or a status other than "no responders"). */
  | { readonly kind: 'refused'; readonly error: Error };

/** Reads JetStream's answer to a publish. */
export function readAnswer(answer: Answer): Outcome {
  const status = answer.headers?.code ?? 0;
  if (status === NO_RESPONDERS) return { kind: 'no-responders' };
  if (status !== 0 && (status < 200 || status >= 300)) {
    const description = answer.headers?.description ?? '';
    return {
      kind: 'refused',
      error: new Error(`JetStream answered a publish with status ${status} ${description}`),
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(answer.data));
  } catch (error) {
    return { kind: 'refused', error: invalid(answer.data, error) };
  }
  if (typeof body !== 'object' || body === null) return { kind: 'refused', error: invalid(body) };
  const { error, stream, seq, domain, duplicate } = body as Record<string, unknown>;
  if (typeof error === 'object' && error !== null) {
    // The JetStream client's own error class, so that `apiCode()` reads it as before.
    return {
      kind: 'refused',
      error: new JetStreamApiError(error as ConstructorParameters<typeof JetStreamApiError>[0]),
    };
  }
  if (typeof stream !== 'string' || stream === '' || typeof seq !== 'number') {
    return { kind: 'refused', error: invalid(body) };
  }
  const ack: PubAck = { stream, seq, duplicate: duplicate === true };
  if (typeof domain === 'string') ack.domain = domain;
  return { kind: 'stored', ack };
}

function invalid(answer: unknown, cause?: unknown): Error {
  const text = answer instanceof Uint8Array ? decoder.decode(answer) : JSON.stringify(answer);
  return new Error(
    `invalid answer to a JetStream publish: ${text.slice(0, 200)}`,
    cause === undefined ? undefined : { cause },
  );
}

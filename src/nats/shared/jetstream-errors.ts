/**
 * Reading the errors of the NATS client, for the governor and the work queue alike: which
 * mean "the governor is full, try again", which are passing trouble worth a retry, and
 * which are final. The client's error classes
 * are matched by `name` where the package does not export them.
 *
 * @module
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import { NatsReconnectedError } from './errors.js';

/** The JetStream API error codes corral relies on (checked against nats-server 2.9). */
export const ApiCode = {
  /** "jetstream system temporarily unavailable" (e.g. no stream leader yet). */
  TemporarilyUnavailable: 10008,
  /** "no message found": deleting a sequence that is not there. */
  NoMessageFound: 10057,
  /** "stream name already in use with a different configuration". */
  StreamNameInUse: 10058,
  /** "stream not found". */
  StreamNotFound: 10059,
  /** "subjects overlap with an existing stream". */
  SubjectsOverlap: 10065,
  /** "wrong last sequence": an expected-sequence condition failed. */
  WrongLastSequence: 10071,
  /** "maximum messages exceeded", but also other store failures (max bytes, disk). */
  StoreFailed: 10077,
} as const;

/** The JetStream API error code of `error`, if it is a JetStream API error. */
export function apiCode(error: unknown): number | undefined {
  return error instanceof JetStreamApiError ? error.code : undefined;
}

/**
 * The stream is at `max_msgs`: every slot is taken. Code 10077 alone is not enough: the
 * server uses it for every store failure, and retrying a full disk forever would hide it.
 */
export function isStreamFull(error: unknown): boolean {
  return (
    apiCode(error) === ApiCode.StoreFailed &&
    error instanceof Error &&
    /maximum messages exceeded/i.test(error.message)
  );
}

/**
 * No one answered the request: the client reports it as 'jetstream is not enabled', but it
 * usually means no stream captures the subject (or its leader is being elected).
 */
export function isNoResponders(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'JetStreamNotEnabled' || error.name === 'NoResponders') return true;
  return error.name === 'RequestError' && isNoResponders(error.cause);
}

/** The reply did not come within the request's timeout. */
export function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}

/**
 * Trouble that may pass: a timeout (the server or the link is slow, down or restarting),
 * a request cut by a disconnection or a reconnection, or JetStream saying it is briefly
 * unavailable. A closed connection is final.
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof NatsReconnectedError) return true;
  switch (error.name) {
    case 'TimeoutError':
      return true;
    case 'RequestError':
    case 'ConnectionError':
      return !isNoResponders(error);
    default:
      return apiCode(error) === ApiCode.TemporarilyUnavailable;
  }
}

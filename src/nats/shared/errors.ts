/**
 * The errors of talking to NATS at all, whichever half (governor or work queue) talks.
 *
 * @module
 */
import { CorralError } from '../../util/errors.js';

/** The NATS client packages are not installed (they are optional peer dependencies of corral). */
export class NatsClientMissingError extends CorralError {
  constructor(options?: ErrorOptions) {
    super(
      'ERR_NATS_CLIENT_MISSING',
      'the NATS client is not installed: npm install @nats-io/transport-node @nats-io/jetstream',
      options,
    );
  }
}

/** Whether `error` says an `@nats-io/*` package could not be found. */
export function isNatsClientMissing(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND' &&
    error.message.includes('@nats-io/')
  );
}

/** Could not connect to the NATS server. */
export class NatsConnectError extends CorralError {
  constructor(servers: string, options?: ErrorOptions) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super('ERR_NATS_CONNECT', `could not connect to NATS at ${servers}${cause}`, options);
  }
}

/**
 * The connection to NATS dropped and came back while a request waited for its reply: the
 * request may or may not have reached the server, and its reply will not come. The governor
 * sends such requests again itself; this reaches callers only when every try of a
 * `finish()` was cut this way (the entry then expires after `maxAge`).
 */
export class NatsReconnectedError extends CorralError {
  constructor(subject: string, options?: ErrorOptions) {
    super(
      'ERR_NATS_RECONNECTED',
      `the connection to NATS was re-established while waiting for a reply to ${subject}; the request may not have reached the server`,
      options,
    );
  }
}

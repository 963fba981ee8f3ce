/**
 * The errors of the work queue. Like every corral error they have a stable `code`.
 *
 * @module
 */
import { CorralError } from '../../index.js';

/**
 * A job had started on a host that stopped answering (killed, powered off, cut off from
 * the server for longer than the queue's ack wait) and it had no tries left: it may or may
 * not have run there, so it is not run again. Raise `maxTries` to run such jobs again.
 * (Jobs of the lost host's messages that had not started run elsewhere, uncharged.)
 */
export class HostLostError extends CorralError {
  /** Tries charged to the job: how many times it had started on hosts that were lost. */
  readonly deliveries: number;

  constructor(deliveries: number, maxTries: number) {
    super(
      'ERR_HOST_LOST',
      `the host running the job was lost (started ${deliveries} times; maxTries ${maxTries}): ` +
        'it may have run, so it is not run again',
    );
    this.deliveries = deliveries;
  }
}

/** A job's input or result is larger than one NATS message may be. */
export class PayloadTooLargeError extends CorralError {
  /** Which of the job's payloads was too large. */
  readonly what: 'input' | 'result';
  /** Its size once serialised, in bytes. */
  readonly size: number;
  /** The most it may be, in bytes: the server's `max_payload` less room for the framing. */
  readonly limit: number;

  constructor(what: 'input' | 'result', size: number, limit: number) {
    super(
      'ERR_PAYLOAD_TOO_LARGE',
      `the job's ${what} is ${size} bytes serialised; a queue job's ${what} may be at most ` +
        `${limit} bytes (the server's max_payload less the message framing)`,
    );
    this.what = what;
    this.size = size;
    this.limit = limit;
  }
}

/**
 * The client's NATS connection closed (for good, not a passing disconnection) while the job
 * waited for its result. Its result may still be stored in the queue's results stream.
 */
export class QueueConnectionClosedError extends CorralError {
  constructor(options?: ErrorOptions) {
    super(
      'ERR_QUEUE_CONNECTION_CLOSED',
      'the connection to NATS closed before the job settled',
      options,
    );
  }
}

/** The queue's streams or consumers could not be set up (JetStream disabled, no permission, ...). */
export class QueueSetupError extends CorralError {
  constructor(queue: string, options?: ErrorOptions) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super('ERR_QUEUE_SETUP', `could not set up queue '${queue}'${cause}`, options);
  }
}

/**
 * A job message could not be stored in the queue: JetStream refused it (the jobs stream
 * is full, for one) or no stream answered for the publisher's whole wait. Its jobs never
 * reached a host; `cause` holds JetStream's own error.
 */
export class QueuePublishError extends CorralError {
  constructor(queue: string, options?: ErrorOptions) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(
      'ERR_QUEUE_PUBLISH',
      `a job message could not be stored in queue '${queue}'${cause}`,
      options,
    );
  }
}

/** A queue by that name does not exist (`corral queue info` of a name never used). */
export class UnknownQueueError extends CorralError {
  constructor(queue: string, options?: ErrorOptions) {
    super('ERR_UNKNOWN_QUEUE', `unknown queue '${queue}'`, options);
  }
}

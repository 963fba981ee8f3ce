/**
 * The base of every error corral raises, the list of their codes, and the errors shared by
 * more than one subsystem or raised on both sides of the thread boundary (worker code may
 * import only the protocol and these utilities). Each subsystem keeps its own errors in its
 * `errors.ts`: src/pool, src/inflight, src/nats, src/cli.
 *
 * @module
 */

/**
 * Every code a {@link CorralError} can have: the one list that the {@link ErrorCode} type,
 * the error classes and the README's table of errors (checked by test/util/errors.test.ts) follow.
 * A new error adds its code here first.
 */
export const ERROR_CODES = [
  // Shared (this file).
  'ERR_INVALID_OPTION',
  'ABORT_ERR',
  'ERR_DATA_CLONE',
  'ERR_POOL_CLOSED',
  'ERR_OUTSIDE_POOL',
  'ERR_INTERNAL',
  // The pool (src/pool/errors.ts).
  'ERR_QUEUE_FULL',
  'ERR_JOB_TIMEOUT',
  'ERR_WORKER_CRASHED',
  'ERR_UNKNOWN_TASK',
  'ERR_MODULE_NOT_FOUND',
  'ERR_MODULE_LOAD',
  'ERR_WORKER_INIT',
  'ERR_WORKER_STARTUP',
  // Listed ahead of their classes, which arrive with the start-up time limit and remote jobs.
  'ERR_STARTUP_TIMEOUT',
  'ERR_HOST_LOST',
  'ERR_PAYLOAD_TOO_LARGE',
  'ERR_QUEUE_CONNECTION_CLOSED',
  'ERR_QUEUE_SETUP',
  'ERR_QUEUE_PUBLISH',
  'ERR_UNKNOWN_QUEUE',
  // In-flight primitives (src/inflight/errors.ts).
  'ERR_GROUP_COMPLETE',
  'ERR_GROUP_CLOSED',
  'ERR_GROUP_DUPLICATE_ID',
  'ERR_QUEUE_DEPTH',
  'ERR_QUEUE_WIDTH',
  'ERR_QUEUE_CLOSED',
  'ERR_RESOURCE_NOT_ACQUIRED',
  'ERR_RUNNER_TIMEOUT',
  'ERR_RUNNER_INTERRUPTED',
  'ERR_RUNNER_TASK',
  'ERR_RUNNER_STARTED',
  // The NATS governor (src/nats/governor/errors.ts).
  'ERR_UNKNOWN_GOVERNOR',
  'ERR_GOVERNOR_EXISTS',
  'ERR_GOVERNOR_LIMIT_BELOW_ACTIVE',
  'ERR_GOVERNOR_SLOT_LOST',
  'ERR_GOVERNOR_ENTRY_NOT_FOUND',
  'ERR_NATS_CLIENT_MISSING',
  'ERR_NATS_CONNECT',
  'ERR_NATS_RECONNECTED',
  // Metrics (src/metrics/errors.ts).
  'ERR_PROM_CLIENT_MISSING',
  // The CLI (src/cli/errors.ts).
  'ERR_INPUT',
  'ERR_INVALID_RECORD',
  'ERR_OUTPUT',
  'ERR_RESULT_NOT_JSON',
] as const;

/** The code of a {@link CorralError}: one of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Marks corral's errors. `Symbol.for` gives every copy of corral in the process the same
 * symbol, so an error made by another copy (two versions installed side by side, or source
 * and build loaded together) is still recognised.
 */
const BRAND = Symbol.for('corral.error');

function isBranded(value: unknown): value is object {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[BRAND] === true
  );
}

/**
 * Every error corral raises is a `CorralError` with a stable `code`.
 * Match on `code`, never on message text: messages may be reworded, codes will not.
 * `instanceof` works across copies of corral in one process (see `[Symbol.hasInstance]` below).
 *
 * @example
 * ```ts
 * try { await pool.do(x); } catch (e) {
 *   if (e instanceof CorralError && e.code === 'ERR_JOB_TIMEOUT') retryLater(x);
 * }
 * ```
 */
export class CorralError extends Error {
  /** Stable machine-readable code, e.g. `ERR_POOL_CLOSED`. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /**
   * `instanceof` by brand rather than by prototype alone, so it holds for errors made by
   * another copy of corral: any branded error is a `CorralError`, and it is an instance of a
   * subclass when its class, or one its class extends, has that subclass's name (class names
   * are public API, like codes).
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (!isBranded(value)) return false;
    if (this === CorralError) return true;
    let proto = Object.getPrototypeOf(value) as object | null;
    while (proto !== null) {
      const ctor: unknown = Object.hasOwn(proto, 'constructor') ? proto.constructor : undefined;
      if (ctor === this || (typeof ctor === 'function' && ctor.name === this.name)) return true;
      // The base class of the error's copy: no subclass above it.
      if (Object.hasOwn(proto, BRAND)) return false;
      proto = Object.getPrototypeOf(proto) as object | null;
    }
    return false;
  }
}
Object.defineProperty(CorralError.prototype, BRAND, { value: true });

/** An option had a value of the wrong type or out of range. */
export class InvalidOptionError extends CorralError {
  constructor(option: string, expected: string, received: unknown, options?: ErrorOptions) {
    super(
      'ERR_INVALID_OPTION',
      `option '${option}' must be ${expected}; received ${describe(received)}`,
      options,
    );
  }
}

/**
 * The error a job rejects with when its `signal` aborts. Like the DOM's `AbortError`:
 * `name` is `'AbortError'`, and `cause` is the signal's reason.
 */
export class AbortError extends CorralError {
  constructor(reason: unknown) {
    super('ABORT_ERR', 'the job was aborted', { cause: reason });
    this.name = 'AbortError';
  }
}

/** An input, a result or the pool's `workerData` could not be copied to the other thread (a function, a socket, ...). */
export class DataCloneError extends CorralError {
  constructor(what: 'input' | 'result' | 'workerData', options?: ErrorOptions) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    const subject =
      what === 'workerData'
        ? "the pool's workerData could not be cloned to the worker threads"
        : `the job's ${what} could not be cloned to the other thread`;
    super('ERR_DATA_CLONE', `${subject}${cause}`, options);
  }
}

/**
 * The pool (a thread pool, or a `ResourcePool`) is closing or closed; the job was not (or will
 * not be) run. Shared because the pool, the governor gate and `ResourcePool` all raise it.
 */
export class PoolClosedError extends CorralError {
  constructor(message = 'the pool is closed', options?: ErrorOptions) {
    super('ERR_POOL_CLOSED', message, options);
  }
}

/** A helper of `corral/worker` that needs a pool (`acquire()`) was called outside a pool's thread. */
export class OutsidePoolError extends CorralError {
  constructor(what: string) {
    super('ERR_OUTSIDE_POOL', `${what} works only inside a task of a corral pool`);
  }
}

/** An invariant of corral itself broke: a bug in corral, never a misuse. Please report it. */
export class InternalError extends CorralError {
  constructor(message: string) {
    super('ERR_INTERNAL', `corral: ${message} (a bug in corral: please report it)`);
  }
}

/** Shows a received value in a validation message: its type and a short rendering. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string')
    return `'${value.length > 60 ? value.slice(0, 57) + '...' : value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${String(value)}`;
  }
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const ctor = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
    return `an object (${ctor?.constructor?.name ?? 'null prototype'})`;
  }
  return typeof value;
}

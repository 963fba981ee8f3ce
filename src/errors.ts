/**
 * Every error corral raises is a {@link CorralError} with a stable `code` string.
 * Match on `code`, never on message text: messages may be reworded, codes will not.
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
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The pool is closing or closed; the job was not (or will not be) run. */
export class PoolClosedError extends CorralError {
  constructor(message = 'the pool is closed', options?: ErrorOptions) {
    super('ERR_POOL_CLOSED', message, options);
  }
}

/** The queue is at `maxQueue` and the caller asked not to wait for room. */
export class QueueFullError extends CorralError {
  constructor(maxQueue: number) {
    super('ERR_QUEUE_FULL', `the queue is full (maxQueue: ${maxQueue})`);
  }
}

/** A job ran longer than its `timeout`; its thread was terminated. */
export class JobTimeoutError extends CorralError {
  constructor(timeout: number, options?: ErrorOptions) {
    super('ERR_JOB_TIMEOUT', `the job ran longer than its timeout of ${timeout} ms`, options);
  }
}

/** The thread running the job died (uncaught error, `process.exit`, out of memory, timeout). */
export class WorkerCrashedError extends CorralError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_WORKER_CRASHED', message, options);
  }
}

/** The task module exports no function of that name. */
export class UnknownTaskError extends CorralError {
  constructor(task: string, known: readonly string[]) {
    super(
      'ERR_UNKNOWN_TASK',
      `the task module exports no task named '${task}' (tasks: ${known.length > 0 ? known.join(', ') : 'none'})`,
    );
  }
}

/** The task module does not exist at the given path. */
export class ModuleNotFoundError extends CorralError {
  constructor(module: string) {
    super('ERR_MODULE_NOT_FOUND', `the task module does not exist: ${module}`);
  }
}

/** The task module failed to load in a worker thread (syntax error, missing import, ...). */
export class ModuleLoadError extends CorralError {
  constructor(module: string, options?: ErrorOptions) {
    super('ERR_MODULE_LOAD', `the task module failed to load: ${module}`, options);
  }
}

/** The task module's `init()` threw in a worker thread. */
export class WorkerInitError extends CorralError {
  constructor(options?: ErrorOptions) {
    super('ERR_WORKER_INIT', "the task module's init() failed", options);
  }
}

/** Threads kept dying before they became ready; the pool gave up instead of restarting them in a loop. */
export class WorkerStartupError extends CorralError {
  constructor(attempts: number, options?: ErrorOptions) {
    super(
      'ERR_WORKER_STARTUP',
      `worker threads died during start-up ${attempts} times in a row; the pool has failed`,
      options,
    );
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
 * A thread did not finish starting (loading the task module and running `init()`) within
 * `startupTimeout`: the pool fails with it, or, during a graceful shutdown, it is the
 * `cause` of the `ERR_POOL_CLOSED` the queued jobs reject with.
 */
export class StartupTimeoutError extends CorralError {
  constructor(startupTimeout: number) {
    super(
      'ERR_STARTUP_TIMEOUT',
      `a worker thread did not finish starting (loading the task module and init()) within startupTimeout (${startupTimeout} ms)`,
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

/**
 * The pool's errors: a job that could not run or did not finish, and a task module that
 * could not be loaded or started. `PoolClosedError`, `DataCloneError`, `AbortError` and
 * `InvalidOptionError`, raised by other subsystems too, are in src/util/errors.ts.
 *
 * @module
 */
import { CorralError } from '../util/errors.js';

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

/**
 * The task module exports no function of that name; in a pool of several modules, also a
 * task whose `name:` prefix names none of them (`message` then says so).
 */
export class UnknownTaskError extends CorralError {
  constructor(task: string, known: readonly string[], message?: string) {
    super(
      'ERR_UNKNOWN_TASK',
      message ??
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
  /** `name`: in a pool of several modules, the key of the one that failed (see `modules`). */
  constructor(module: string, options?: ErrorOptions, name?: string) {
    super(
      'ERR_MODULE_LOAD',
      name === undefined
        ? `the task module failed to load: ${module}`
        : `the task module '${name}' failed to load: ${module}`,
      options,
    );
  }
}

/**
 * The task module's `init()` threw in a worker thread, or returned a promise that never
 * settled (the thread had nothing left to run while it was pending: `cause.code` is
 * `'ERR_INIT_UNSETTLED'`).
 */
export class WorkerInitError extends CorralError {
  /**
   * `module`: in a pool of several modules, the name of the one whose init() failed.
   * `how`: what became of it, after "init()".
   */
  constructor(options?: ErrorOptions, module?: string, how = 'failed') {
    super(
      'ERR_WORKER_INIT',
      module === undefined
        ? `the task module's init() ${how}`
        : `the init() of the task module '${module}' ${how}`,
      options,
    );
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

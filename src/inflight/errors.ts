/**
 * The errors of the in-flight primitives: call groups, the op queue, the resource pool and
 * the runner. (`ResourcePool` also raises `PoolClosedError`, from src/util/errors.ts.)
 *
 * @module
 */
import { CorralError } from '../util/errors.js';

/** `add()` was called on a group that has already completed. */
export class GroupCompleteError extends CorralError {
  constructor(id: unknown) {
    super(
      'ERR_GROUP_COMPLETE',
      `cannot add op ${String(id)}: the call group has already completed`,
    );
  }
}

/** `add()` was called after `close()`, while earlier ops were still outstanding. */
export class GroupClosedError extends CorralError {
  constructor(id: unknown) {
    super('ERR_GROUP_CLOSED', `cannot add op ${String(id)}: the call group is closed`);
  }
}

/** `add()` was given an id the group already holds; results are keyed by id, so ids must be unique. */
export class DuplicateOpIdError extends CorralError {
  constructor(id: unknown) {
    super('ERR_GROUP_DUPLICATE_ID', `the call group already has an op with id ${String(id)}`);
  }
}

/** `enqueue()` would add a new id while `depth` distinct ids are already queued. */
export class QueueDepthError extends CorralError {
  constructor(depth: number) {
    super('ERR_QUEUE_DEPTH', `the op queue is full: it already holds ${depth} ids (depth)`);
  }
}

/** `enqueue()` would add an op to an id's set that already holds `width` ops. */
export class QueueWidthError extends CorralError {
  constructor(id: unknown, width: number) {
    super('ERR_QUEUE_WIDTH', `the set for id ${String(id)} already holds ${width} ops (width)`);
  }
}

/** `enqueue()` was called after `close()`. */
export class QueueClosedError extends CorralError {
  constructor() {
    super('ERR_QUEUE_CLOSED', 'the op queue is closed');
  }
}

/** `release()` or `discard()` got a resource this pool has not lent out (foreign, or returned twice). */
export class ResourceNotAcquiredError extends CorralError {
  constructor() {
    super(
      'ERR_RESOURCE_NOT_ACQUIRED',
      'the resource is not on loan from this pool (released twice, or acquired elsewhere)',
    );
  }
}

/** The deadline passed before every task had finished. */
export class RunnerTimeoutError extends CorralError {
  constructor(timeout: number) {
    super('ERR_RUNNER_TIMEOUT', `the tasks did not finish within ${timeout} ms`);
  }
}

/** A signal (SIGINT, SIGTERM, ...) arrived while the tasks were running. */
export class RunnerInterruptedError extends CorralError {
  /** The signal that stopped the run. */
  readonly signal: NodeJS.Signals;

  constructor(signal: NodeJS.Signals) {
    super('ERR_RUNNER_INTERRUPTED', `the run was interrupted by ${signal}`);
    this.signal = signal;
  }
}

/** A task threw or rejected; `cause` is what it threw, `taskId` its index. */
export class RunnerTaskError extends CorralError {
  /** Index of the failed task, in the order it was added. */
  readonly taskId: number;

  constructor(taskId: number, cause: unknown) {
    super('ERR_RUNNER_TASK', `task ${taskId} failed`, { cause });
    this.taskId = taskId;
  }
}

/** `start()` was called twice, or `add()` after `start()`. */
export class RunnerStartedError extends CorralError {
  constructor() {
    super('ERR_RUNNER_STARTED', 'the runner has already been started');
  }
}

/**
 * In-flight primitives after proven Go designs: call groups, a de-duplicating op queue, a
 * bounded resource pool and a runner with a deadline. Also exported as `corral/inflight`.
 *
 * @module
 */
export {
  CallGroup,
  Op,
  type CallOutcome,
  type CallResults,
  type CallGroupOptions,
  type CallGroupState,
} from './call-group.js';
export { OpQueue, type OpQueueOptions, type OpSet } from './op-queue.js';
export { ResourcePool, type ResourcePoolOptions } from './resource-pool.js';
export {
  Runner,
  type Task as RunnerTask,
  type TaskContext as RunnerTaskContext,
  type RunnerOptions,
  type RunnerState,
} from './runner.js';
export {
  GroupCompleteError,
  GroupClosedError,
  DuplicateOpIdError,
  QueueDepthError,
  QueueWidthError,
  QueueClosedError,
  ResourceNotAcquiredError,
  RunnerTimeoutError,
  RunnerInterruptedError,
  RunnerTaskError,
  RunnerStartedError,
} from './errors.js';

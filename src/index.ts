export { Pool, type ShutdownOptions } from './pool.js';
export type { PoolOptions, QueueFullPolicy } from './options.js';
export type { JobOptions } from './job.js';
export type { Outcome, StreamOptions } from './stream.js';
export type { PoolStats, Latency } from './stats.js';
export type { PoolEvents } from './engine.js';
export type { PoolState } from './lifecycle.js';
export type { KeyCounts } from './keyed.js';
export { Lease } from './leases.js';
export type { PoolProxy, ProxyCallOptions } from './proxy.js';
export * from './errors.js';

export {
  CallGroup,
  Op,
  GroupCompleteError,
  GroupClosedError,
  DuplicateOpIdError,
  type CallOutcome,
  type CallResults,
  type CallGroupOptions,
  type CallGroupState,
} from './call-group.js';
export {
  OpQueue,
  QueueDepthError,
  QueueWidthError,
  QueueClosedError,
  type OpQueueOptions,
  type OpSet,
} from './op-queue.js';
export {
  ResourcePool,
  ResourceNotAcquiredError,
  type ResourcePoolOptions,
} from './resource-pool.js';
export {
  Runner,
  RunnerTimeoutError,
  RunnerInterruptedError,
  RunnerTaskError,
  RunnerStartedError,
  type Task as RunnerTask,
  type TaskContext as RunnerTaskContext,
  type RunnerOptions,
  type RunnerState,
} from './runner.js';
export { LocalGovernor } from './local-governor.js';
export type { GovernorFor } from './governor-gate.js';
export {
  runInSlot,
  type ConcurrencyGovernor,
  type Slot,
  type StartOptions,
  type RunOptions,
} from './governor.js';
export type {
  Executor,
  ExecutorJobOptions,
  ExecutorStreamOptions,
  ExecutorStats,
} from './executor.js';

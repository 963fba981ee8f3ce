/**
 * The pool: the public `Pool` facade and the types of its options, jobs, outcomes and stats.
 *
 * @module
 */
export { Pool, type ShutdownOptions } from './pool.js';
export type { Isolation, PoolOptions, QueueFullPolicy, RecycleOptions } from './options.js';
export type { JobOptions } from './job.js';
export type { Outcome, StreamOptions, TaskStreamOptions } from './stream.js';
export type { PoolStats, RecentStats, Latency } from './stats.js';
export type { JobRecord, JobRecordError, JobListener } from '../observe/job-record.js';
export type { PoolEvents } from './engine.js';
export type { PoolState } from './lifecycle.js';
export type {
  PoolProxy,
  ProxyCallOptions,
  TaskName,
  TaskInput,
  TaskResult,
  TaskJobOptions,
  DefaultTask,
} from './proxy.js';
export type { BroadcastOptions, BroadcastOutcome } from './broadcast.js';
export {
  QueueFullError,
  JobTimeoutError,
  WorkerCrashedError,
  UnknownTaskError,
  ModuleNotFoundError,
  ModuleLoadError,
  WorkerInitError,
  WorkerStartupError,
  StartupTimeoutError,
} from './errors.js';
export type {
  Executor,
  ExecutorJobOptions,
  ExecutorStreamOptions,
  ExecutorStats,
} from './executor.js';

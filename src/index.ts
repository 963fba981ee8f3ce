export { Pool, type ShutdownOptions } from './pool.js';
export type { PoolOptions, QueueFullPolicy } from './options.js';
export type { JobOptions } from './job.js';
export type { Outcome, StreamOptions } from './stream.js';
export type { PoolStats, Latency } from './stats.js';
export type { PoolEvents } from './engine.js';
export type { PoolState } from './lifecycle.js';
export * from './errors.js';

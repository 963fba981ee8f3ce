/**
 * `corral`: a pool of worker threads for CPU-heavy work. This file only re-exports the
 * public face of each subsystem.
 *
 * @module
 */
export * from './pool/index.js';
export * from './keyed/index.js';
export * from './inflight/index.js';
export * from './governor/index.js';
export {
  CorralError,
  ERROR_CODES,
  type ErrorCode,
  AbortError,
  DataCloneError,
  InvalidOptionError,
  PoolClosedError,
} from './util/errors.js';
export * from './benchmark/index.js';

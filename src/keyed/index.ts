/**
 * Keyed targets: per-key concurrency limits in shared counters, served fairly, and leases.
 *
 * @module
 */
export type { KeyCounts } from './keyed.js';
export { Lease } from './leases.js';

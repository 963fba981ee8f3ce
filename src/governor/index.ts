/**
 * The governor seam: what a cluster-wide (or local) concurrency governor offers the pool,
 * the in-process `LocalGovernor`, and the gate that makes keyed jobs hold slots.
 *
 * @module
 */
export { LocalGovernor } from './local-governor.js';
export type { GovernorFor } from './gate.js';
export {
  runInSlot,
  type ConcurrencyGovernor,
  type Slot,
  type StartOptions,
  type RunOptions,
} from './governor.js';

/**
 * The layout of the keyed targets' shared counters: two Int32 slots per key (target,
 * active) in a SharedArrayBuffer the main thread writes and every worker thread reads.
 * Only the main thread writes (see `src/keyed/key-table.ts`); threads read here.
 */

/** Stored for "no limit": targets above it are treated as unlimited. */
export const UNLIMITED = 0x7fffffff;
/** Int32 slots per key: target, active. */
export const STRIDE = 2;
export const TARGET = 0;
export const ACTIVE = 1;

/** Reads a key's counters from a table a thread received (see `counts` in `corral/worker`). */
export function readCounters(
  counters: Int32Array,
  slot: number,
): { target: number; active: number } {
  const target = Atomics.load(counters, slot * STRIDE + TARGET);
  return {
    target: target >= UNLIMITED ? Number.POSITIVE_INFINITY : target,
    active: Atomics.load(counters, slot * STRIDE + ACTIVE),
  };
}

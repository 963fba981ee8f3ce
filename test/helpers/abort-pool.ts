/**
 * Pools on test/fixtures/abort-tasks.mjs, whose tasks wait for and raise flags in an
 * `Int32Array` shared through `workerData`. Each test file numbers its own flag slots.
 */
import { afterEach } from 'vitest';
import { Pool, type PoolOptions } from 'corral';
import { fixture, until } from './index.js';

/**
 * Registers an `afterEach` that shuts the file's pool down by force, and returns `open`,
 * which starts a pool on abort-tasks.mjs with a fresh flags array.
 */
export function useAbortPools(): (options: Omit<PoolOptions, 'module'>) => {
  pool: Pool;
  flags: Int32Array;
} {
  let pool: Pool | undefined;
  afterEach(async () => {
    await pool?.shutdown({ force: true });
    pool = undefined;
  });
  return (options) => {
    const flags = new Int32Array(new SharedArrayBuffer(4 * 4096));
    pool = new Pool({ module: fixture('abort-tasks.mjs'), workerData: { flags }, ...options });
    return { pool, flags };
  };
}

/** Sets a flag and wakes a task waiting on it. */
export function raise(flags: Int32Array, slot: number): void {
  Atomics.store(flags, slot, 1);
  Atomics.notify(flags, slot);
}

/** Resolves once a task has set the flag. */
export function raised(flags: Int32Array, slot: number): Promise<void> {
  return until(() => Atomics.load(flags, slot) !== 0);
}

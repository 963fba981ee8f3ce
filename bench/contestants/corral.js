// @ts-check
/**
 * corral, loaded from its build output at run time. The types below describe only the part of its
 * API the bench uses; a build without `Pool` fails this contestant (an error row) and nothing else.
 */

/** @typedef {import('../lib/contestant.js').Outcome} Outcome */

/**
 * @typedef {object} CorralPool
 * @property {() => Promise<void>} ready
 * @property {(input: unknown, options: { task: string, transfer?: import('node:worker_threads').TransferListItem[] }) => Promise<unknown>} do
 * @property {(inputs: Iterable<unknown>, options: { task: string, key?: (input: unknown, index: number) => string }) => AsyncIterable<Outcome & { index: number }>} execute
 * @property {(inputs: AsyncIterable<unknown>, options: { task: string }) => AsyncIterable<Outcome>} wrap
 * @property {() => Promise<void>} shutdown
 * @property {(event: 'threadStart' | 'threadExit', listener: (info: { threadId: number }) => void) => void} on
 */

/** @typedef {new (options: { module: URL, threads: number, isolation?: 'thread' | 'process' }) => CorralPool} CorralPoolClass */

import { URL } from 'node:url';
import { batchByExecute } from '../lib/contestant.js';

const entry = new URL('../../dist/src/index.js', import.meta.url);
const taskModule = new URL('../workers/corral.js', import.meta.url);

/** @returns {Promise<CorralPoolClass>} */
async function loadPool() {
  /** @type {unknown} */
  const mod = await import(entry.href);
  if (
    typeof mod !== 'object' ||
    mod === null ||
    !('Pool' in mod) ||
    typeof mod.Pool !== 'function'
  ) {
    throw new Error(`corral is not built: ${entry.pathname} has no Pool export (npm run build)`);
  }
  return /** @type {CorralPoolClass} */ (/** @type {unknown} */ (mod.Pool));
}

/**
 * With `CORRAL_BENCH_METRICS=1`, the pool runs with its Prometheus metrics on
 * (`registerMetrics` of corral/metrics, in prom-client's default registry, not scraped): to
 * measure their cost on the hot path against a run without.
 * @param {CorralPool} pool
 * @returns {Promise<() => void>} unregisters them
 */
async function withMetrics(pool) {
  if (process.env.CORRAL_BENCH_METRICS !== '1') return () => undefined;
  /** @type {unknown} */
  const mod = await import(new URL('../../dist/src/metrics/entry.js', import.meta.url).href);
  const metrics =
    /** @type {{ registerMetrics: (pool: CorralPool, options?: object) => () => void }} */ (mod);
  return metrics.registerMetrics(pool, { labels: { pool: `bench-${++benchPools}` } });
}
let benchPools = 0;

/** @type {import('../lib/contestant.js').CreateContestant} */
export function create(threads) {
  return createCorral(threads, 'thread');
}

/**
 * A corral pool whose workers run as threads or as child processes (`corral-process`).
 * @param {number} threads
 * @param {'thread' | 'process'} isolation
 * @returns {Promise<import('../lib/contestant.js').Contestant>}
 */
export async function createCorral(threads, isolation) {
  const Pool = await loadPool();
  const pool = new Pool({ module: taskModule, threads, isolation });
  // A worker process's thread id is its pid: its CPU time is this contestant's, not other load.
  /** @type {Set<number>} */
  const children = new Set();
  if (isolation === 'process') {
    pool.on('threadStart', ({ threadId }) => children.add(threadId));
    pool.on('threadExit', ({ threadId }) => children.delete(threadId));
  }
  await pool.ready();
  const unregister = await withMetrics(pool);
  return {
    parallelism: threads,
    transfers: true,
    pids: isolation === 'process' ? () => [...children] : undefined,
    run: (task, arg, transfer) =>
      pool.do(arg, transfer === undefined ? { task } : { task, transfer }),
    execute: (inputs, task) => pool.execute(inputs, { task }),
    executeKeyed: (inputs, task, keys) => {
      const names = Array.from({ length: keys }, (_, i) => `key-${i}`);
      return pool.execute(inputs, { task, key: (_, i) => names[i % keys] ?? 'key-0' });
    },
    wrap: (inputs, task) => pool.wrap(inputs, { task }),
    batch: batchByExecute((inputs, task) => pool.execute(inputs, { task })),
    close: () => {
      unregister();
      return pool.shutdown();
    },
  };
}

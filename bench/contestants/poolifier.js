// @ts-check
import { fileURLToPath, URL } from 'node:url';
import { FixedThreadPool } from 'poolifier';

const filePath = fileURLToPath(new URL('../workers/poolifier.js', import.meta.url));

/** @type {import('../lib/contestant.js').CreateContestant} */
export function create(threads) {
  // Defaults otherwise: no main-thread task queue, least-used worker choice.
  /** @type {FixedThreadPool<unknown, unknown>} */
  const pool = new FixedThreadPool(threads, filePath);
  return Promise.resolve({
    parallelism: threads,
    transfers: true,
    run: (task, arg, transfer) => pool.execute(arg, task, undefined, transfer),
    execute: undefined,
    executeKeyed: undefined,
    wrap: undefined,
    // poolifier's own batch API: one call, results in input order.
    batch: (inputs, task) => pool.mapExecute(inputs, task),
    close: () => pool.destroy(),
  });
}

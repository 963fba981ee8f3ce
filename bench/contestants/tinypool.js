// @ts-check
import { URL } from 'node:url';
import Tinypool from 'tinypool';

const filename = new URL('../workers/tinypool.js', import.meta.url).href;

/** @type {import('../lib/contestant.js').CreateContestant} */
export function create(threads) {
  const pool = new Tinypool({ filename, minThreads: threads, maxThreads: threads });
  return Promise.resolve({
    parallelism: threads,
    transfers: true,
    run: (task, arg, transfer) =>
      /** @type {Promise<unknown>} */ (
        pool.run(
          arg,
          transfer === undefined ? { name: task } : { name: task, transferList: transfer },
        )
      ),
    execute: undefined,
    executeKeyed: undefined,
    wrap: undefined,
    batch: undefined,
    close: () => pool.destroy(),
  });
}

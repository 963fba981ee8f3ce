// @ts-check
import { fileURLToPath, URL } from 'node:url';
import workerpool from 'workerpool';

const script = fileURLToPath(new URL('../workers/workerpool.js', import.meta.url));

/** @typedef {(arg: unknown) => unknown} Method */

/** @type {import('../lib/contestant.js').CreateContestant} */
export function create(threads) {
  const pool = workerpool.pool(script, {
    minWorkers: threads,
    maxWorkers: threads,
    workerType: 'thread',
  });
  return Promise.resolve({
    parallelism: threads,
    transfers: true,
    // workerpool's own promise class is a thenable, enough for await and Promise.all.
    run: (task, arg, transfer) =>
      pool.exec(
        task,
        /** @type {Parameters<Method>} */ ([arg]),
        transfer === undefined ? {} : { transfer },
      ),
    execute: undefined,
    executeKeyed: undefined,
    wrap: undefined,
    batch: undefined,
    close: () => pool.terminate(),
  });
}

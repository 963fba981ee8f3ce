// @ts-check
import { URL } from 'node:url';
import { move, Piscina } from 'piscina';

const filename = new URL('../workers/piscina.js', import.meta.url).href;

/** @type {import('../lib/contestant.js').CreateContestant} */
export function create(threads) {
  // Defaults otherwise (atomics: 'sync', one task per worker, unbounded queue).
  /** @type {Piscina<unknown, unknown>} */
  const pool = new Piscina({ filename, minThreads: threads, maxThreads: threads });
  return Promise.resolve({
    parallelism: threads,
    transfers: true,
    run: (task, arg, transfer) =>
      // Piscina.move marks the view's buffer for transfer; piscina has no per-call transfer list.
      pool.run(transfer === undefined ? arg : move(/** @type {Uint8Array} */ (arg)), {
        name: task,
      }),
    execute: undefined,
    executeKeyed: undefined,
    wrap: undefined,
    batch: undefined,
    close: () => pool.destroy(),
  });
}

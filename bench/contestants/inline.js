// @ts-check
// The ceiling: the task runs on the main thread, with the same promise per task as a pool.
import { runTask } from '../lib/tasks.js';

/** @type {import('../lib/contestant.js').CreateContestant} */
export function create(_threads) {
  return Promise.resolve({
    parallelism: 1,
    transfers: false,
    run: (task, arg) => Promise.resolve(runTask(task, arg)),
    execute: undefined,
    executeKeyed: undefined,
    wrap: undefined,
    batch: undefined,
    close: () => Promise.resolve(),
  });
}

// @ts-check
import { ThreadWorker } from 'poolifier';
import { cpu, payload, tiny } from '../lib/tasks.js';

// poolifier's task functions take one `data` argument of the worker's single Data type, so each is
// wrapped to narrow it.
export default new ThreadWorker({
  tiny: (/** @type {unknown} */ n) => tiny(/** @type {number} */ (n)),
  cpu: (/** @type {unknown} */ iters) => cpu(/** @type {number} */ (iters)),
  payload: (/** @type {unknown} */ buf) => payload(/** @type {Uint8Array} */ (buf)),
});

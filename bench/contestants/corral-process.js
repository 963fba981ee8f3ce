// @ts-check
/**
 * corral with `isolation: 'process'`: each worker a child process running the same runtime,
 * to weigh what a crash-proof worker costs against corral's threads on the same scenarios.
 */
import { createCorral } from './corral.js';

/** @type {import('../lib/contestant.js').CreateContestant} */
export function create(threads) {
  return createCorral(threads, 'process');
}

// @ts-check
import { performance } from 'node:perf_hooks';
import { cpu } from './tasks.js';

/**
 * @param {number} iters
 * @returns {number} milliseconds one `cpu(iters)` took
 */
function timeOnce(iters) {
  const t0 = performance.now();
  cpu(iters);
  return performance.now() - t0;
}

/**
 * Finds the `iters` for which one `cpu(iters)` takes about `targetMs` on this thread.
 * @param {number} [targetMs]
 * @returns {{ iters: number, perTaskMs: number }}
 */
export function calibrateCpu(targetMs = 5) {
  for (let i = 0; i < 50; i++) timeOnce(100);
  let iters = 100;
  let ms = timeOnce(iters);
  while (ms < 50) {
    iters *= 2;
    ms = timeOnce(iters);
  }
  iters = Math.max(1, Math.round((iters * targetMs) / ms));
  // The fastest of several runs: interference from other processes only ever adds time.
  const first = Math.min(...Array.from({ length: 9 }, () => timeOnce(iters)));
  iters = Math.max(1, Math.round((iters * targetMs) / first));
  return { iters, perTaskMs: Math.min(...Array.from({ length: 9 }, () => timeOnce(iters))) };
}

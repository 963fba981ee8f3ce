// @ts-check
/**
 * Issue 18's dispatch figures: a burst of 12 slow jobs (50 ms of CPU each) after 200 tiny
 * ones, on a fixed pool of 4 threads and on an elastic one (minThreads 1, maxThreads 4):
 * wall time and how many of the slow jobs each thread ran. Then a mixed batch of two tasks
 * (10 µs and 20 ms, interleaved) on a pool of `os.availableParallelism()` threads: wall
 * time against the ideal (the slow jobs' total CPU spread over the cores).
 *
 *   npm run build && node bench/dispatch-spread.js [--reps 3]
 *
 * Not a test: the figures depend on the machine and its load.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Pool } from '../dist/src/index.js';

const module = new URL('../test/fixtures/dispatch-tasks.mjs', import.meta.url);
const { values } = parseArgs({ options: { reps: { type: 'string', default: '3' } } });
const reps = Number(values.reps);

/** @param {Record<string, unknown>} options */
async function burst(options) {
  const pool = new Pool({ module, ...options });
  await pool.ready();
  await Promise.all(Array.from({ length: 200 }, () => pool.do(0)));
  /** @type {number[]} */
  const starts = [];
  pool.on('threadStart', () => starts.push(Math.round(performance.now() - start)));
  const start = performance.now();
  const ids = await Promise.all(Array.from({ length: 12 }, () => pool.do(50)));
  const wall = performance.now() - start;
  const threads = pool.stats().threads;
  await pool.shutdown();
  /** @type {Map<number, number>} */
  const per = new Map();
  for (const id of /** @type {number[]} */ (ids)) per.set(id, (per.get(id) ?? 0) + 1);
  return {
    wall,
    threads,
    spread: [...per.values()].sort((a, b) => b - a).join('/'),
    starts: starts.join(','),
  };
}

async function mixed() {
  const cores = availableParallelism();
  const pool = new Pool({ module, threads: cores });
  await pool.ready();
  await Promise.all(Array.from({ length: 200 }, () => pool.do(0)));
  const slow = 40;
  /** @type {number[]} */
  const inputs = [];
  for (let i = 0; i < slow; i++) inputs.push(0.01, 20, 0.01);
  const start = performance.now();
  // Two tasks: the tiny jobs are `other`'s, the slow ones the default task's.
  const ids = await Promise.all(
    inputs.map((ms) => pool.do(ms, ms === 20 ? {} : { task: 'other' })),
  );
  const wall = performance.now() - start;
  await pool.shutdown();
  /** @type {Map<number, number>} */
  const per = new Map();
  ids.forEach((id, i) => {
    if (inputs[i] === 20)
      per.set(/** @type {number} */ (id), (per.get(/** @type {number} */ (id)) ?? 0) + 1);
  });
  const ideal = (slow * 20 + slow * 2 * 0.01) / cores;
  return {
    wall,
    ideal,
    ratio: wall / ideal,
    spread: [...per.values()].sort((a, b) => b - a).join('/'),
  };
}

for (let r = 0; r < reps; r++) {
  const fixed = await burst({ threads: 4 });
  const elastic = await burst({ minThreads: 1, maxThreads: 4 });
  const mix = await mixed();
  console.log(
    `fixed ${fixed.wall.toFixed(0)} ms (${fixed.threads} threads, ${fixed.spread}) | ` +
      `elastic ${elastic.wall.toFixed(0)} ms (${elastic.threads} threads, ${elastic.spread}; new threads ready at ${elastic.starts} ms) | ` +
      `mixed ${mix.wall.toFixed(0)} ms vs ideal ${mix.ideal.toFixed(0)} ms (${mix.ratio.toFixed(2)}x, ${mix.spread})`,
  );
}

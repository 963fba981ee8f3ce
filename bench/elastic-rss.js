// @ts-check
/**
 * What an elastic pool saves once a burst is over: the RSS of an idle pool after a burst,
 * elastic (minThreads 1, maxThreads 4, idleTimeout 1000) against fixed (threads 4), read
 * once the idle timeout has passed. Each measurement runs in a fresh child process.
 *
 *   npm run build && node bench/elastic-rss.js [--reps 3]
 *
 * Prints one markdown row per measurement. Not a test: the figures depend on the machine.
 */
import { execFileSync } from 'node:child_process';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, URL } from 'node:url';
import { parseArgs } from 'node:util';

const worker = new URL('./workers/corral.js', import.meta.url);
const self = fileURLToPath(import.meta.url);
/** Jobs in the burst, of payload (64 KiB in) and cpu work, so each thread's heap grows as in use. */
const BURST = 400;
/** `cpu` iterations per job: a few ms each on a 2-core test machine. */
const ITERS = 2000;
const IDLE_TIMEOUT = 1000;
/** Waited after the burst: the idle timeout, and time for the retired threads to exit. */
const IDLE_WAIT = IDLE_TIMEOUT + 2000;

/** @typedef {'elastic' | 'fixed'} Kind */
/** @typedef {{ kind: Kind, threads: number, peakThreads: number, rssMiB: number, beforeMiB: number }} Result */

/**
 * One measurement, in this process: prints `{ kind, threads, peakThreads, rssMiB, beforeMiB }` as JSON.
 * @param {Kind} kind
 */
async function child(kind) {
  const { Pool } = await import('../dist/src/index.js');
  const options =
    kind === 'elastic'
      ? { minThreads: 1, maxThreads: 4, idleTimeout: IDLE_TIMEOUT }
      : { threads: 4 };
  const pool = new Pool({ module: worker, ...options });
  await pool.ready();
  const beforeMiB = process.memoryUsage().rss / 2 ** 20;
  let alive = pool.stats().threads;
  let peakThreads = alive;
  pool.on('threadStart', () => {
    peakThreads = Math.max(peakThreads, ++alive);
  });
  pool.on('threadExit', () => {
    alive--;
  });
  const jobs = [];
  for (let i = 0; i < BURST; i++) {
    jobs.push(pool.do(new Uint8Array(64 * 1024), { task: 'payload' }));
    jobs.push(pool.do(ITERS, { task: 'cpu' }));
  }
  await Promise.all(jobs);
  await sleep(IDLE_WAIT);
  const result = {
    kind,
    threads: pool.stats().threads,
    peakThreads,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
    beforeMiB,
  };
  await pool.shutdown();
  process.stdout.write(JSON.stringify(result) + '\n');
}

function main() {
  const { values } = parseArgs({ options: { reps: { type: 'string', default: '3' } } });
  const reps = Number(values.reps);
  console.log(
    '| rep | pool | threads at the peak | threads when idle | RSS idle after the burst (MiB) | RSS before the burst (MiB) |',
  );
  console.log('|---|---|---|---|---|---|');
  for (let rep = 1; rep <= reps; rep++) {
    for (const kind of /** @type {Kind[]} */ (['fixed', 'elastic'])) {
      const out = execFileSync(process.execPath, [self, '--child', kind], { encoding: 'utf8' });
      /** @type {unknown} */
      const parsed = JSON.parse(out);
      const r = /** @type {Result} */ (parsed);
      console.log(
        `| ${rep} | ${r.kind} | ${r.peakThreads} | ${r.threads} | ${r.rssMiB.toFixed(1)} | ${r.beforeMiB.toFixed(1)} |`,
      );
    }
  }
}

const childAt = process.argv.indexOf('--child');
if (childAt === -1) main();
else await child(/** @type {Kind} */ (process.argv[childAt + 1]));

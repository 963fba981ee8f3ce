/**
 * The main-job demo: hashes a generated batch of records on one thread, then on every
 * core, through the pool, and prints throughput and the speedup.
 *
 * Usage: `node dist/src/demo.js [records=20000] [rounds=400]`
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Pool } from './pool.js';

const records = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 400);
const module = new URL('../workers/examples/hash.js', import.meta.url);

function* inputs(): Generator<{ data: string; rounds: number }> {
  for (let i = 0; i < records; i++) yield { data: `record-${i}-${'x'.repeat(i % 64)}`, rounds };
}

async function run(threads: number): Promise<{ seconds: number; digests: string[] }> {
  await using pool = new Pool({ module, threads });
  await pool.ready();
  const digests = new Array<string>(records);
  const start = performance.now();
  let failed = 0;
  for await (const o of pool.wrap(inputs(), { task: 'sha256' })) {
    if (o.ok) digests[o.index] = o.value as string;
    else failed++;
  }
  const seconds = (performance.now() - start) / 1000;
  if (failed > 0) throw new Error(`${failed} records failed`);
  return { seconds, digests };
}

const cores = availableParallelism();
console.log(`corral demo: ${records} records x ${rounds} SHA-256 rounds, ${cores} cores`);
const one = await run(1);
console.log(
  `1 thread:   ${one.seconds.toFixed(2)} s, ${Math.round(records / one.seconds)} records/s`,
);
const all = await run(cores);
console.log(
  `${cores} threads: ${all.seconds.toFixed(2)} s, ${Math.round(records / all.seconds)} records/s`,
);
const same = all.digests.every((d, i) => d === one.digests[i]);
console.log(`speedup: ${(one.seconds / all.seconds).toFixed(2)}x; results identical: ${same}`);
if (!same) process.exitCode = 1;

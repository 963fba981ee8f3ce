/**
 * `corral demo`, the main-job demo through the command line: generates records, runs
 * `corral map` over them with 1 thread and then with every core, and prints each run's
 * summary, the speedup, and whether both runs wrote the same results. Everything it needs
 * (the example hash module and the CLI) ships in the package, so it runs from an install.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';

const cli = fileURLToPath(new URL('./main.js', import.meta.url));
const hashModule = fileURLToPath(new URL('../../workers/examples/hash.js', import.meta.url));

/** Writes the records as JSON lines: `{"id":0,"data":"record-0-...","rounds":500}`. */
async function writeRecords(path: string, records: number, rounds: number): Promise<void> {
  const out = createWriteStream(path);
  for (let id = 0; id < records; id++) {
    const line = `${JSON.stringify({ id, data: `record-${id}-${'x'.repeat(id % 64)}`, rounds })}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

/** Runs `corral map` with its stderr (progress bar, summary) on ours; resolves to seconds. */
async function map(input: string, output: string, threads: number): Promise<number> {
  const args = ['map', hashModule, input, '--task', 'sha256', '--ordered'];
  args.push('--threads', String(threads), '--output', output);
  const shown = args.map((a) => {
    const near = relative(process.cwd(), a);
    return a.startsWith('/') && !near.startsWith('..') ? near : a;
  });
  process.stdout.write(`\n$ corral ${shown.join(' ')}\n`);
  const start = performance.now();
  const child = spawn(process.execPath, [cli, ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`corral map exited with ${code}`);
  return (performance.now() - start) / 1000;
}

function digest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Runs the demo; resolves to whether both runs wrote the same results. */
async function demo(records: number, rounds: number): Promise<boolean> {
  const cores = availableParallelism();
  const dir = mkdtempSync(join(tmpdir(), 'corral-demo-'));
  try {
    const input = join(dir, 'records.jsonl');
    await writeRecords(input, records, rounds);
    console.log(`corral map demo: ${records} records x ${rounds} SHA-256 rounds, ${cores} cores`);
    const one = await map(input, join(dir, 'one.jsonl'), 1);
    const all = await map(input, join(dir, 'all.jsonl'), cores);
    const same = digest(join(dir, 'one.jsonl')) === digest(join(dir, 'all.jsonl'));
    console.log(
      `\n1 thread: ${one.toFixed(2)} s; ${cores} threads: ${all.toFixed(2)} s ` +
        `(wall time, start-up included); speedup ${(one / all).toFixed(2)}x; ` +
        `results identical: ${same}`,
    );
    return same;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function count(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidArgumentError(`${flag} must be an integer >= 1; got '${value}'.`);
    }
    return n;
  };
}

/** Adds `corral demo` to the program. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'the main-job demo: run `corral map` over generated records (SHA-256 rounds each) ' +
        'on 1 thread and on every core, and compare',
    )
    .option('--records <n>', 'records to generate', count('--records'), 20_000)
    .option('--rounds <n>', 'SHA-256 rounds per record', count('--rounds'), 500)
    .action(async (options: { records: number; rounds: number }) => {
      const same = await demo(options.records, options.rounds);
      if (!same) process.exitCode = 1;
    });
}

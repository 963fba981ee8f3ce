/**
 * `corral bench`: with a MODULE, the scaling report of the user's own task (inline, then a
 * pool at each thread count; a table, advice, and optionally JSON and an SVG chart). Without
 * one (or with `--peers`), the project's comparison against the peer pools, which runs only
 * from a checkout of corral's repository.
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { benchmark } from '../benchmark/benchmark.js';
import { scalingChart } from '../benchmark/chart.js';
import { planFor } from '../benchmark/measure.js';
import { parseDuration, parseThreadList, resolveBenchmarkOptions } from '../benchmark/options.js';
import { renderReport } from '../benchmark/report.js';
import { InvalidOptionError } from '../util/errors.js';
import { readSampleInputs } from './bench-inputs.js';
import { runPeerBench } from './bench-peers.js';

/** The options of `corral bench`, as commander gives them. */
interface BenchFlags {
  peers?: boolean;
  quick?: boolean;
  only?: string;
  scenario?: string;
  task?: string;
  threads?: string;
  time?: string;
  samples?: string;
  json?: string;
  chart?: string;
}

/** Adds `corral bench` to the program. */
export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description(
      'measure a task module inline and on 1, 2, 4... threads; without MODULE (or with --peers), compare corral with piscina, poolifier, tinypool and workerpool (from a checkout)',
    )
    .argument('[module]', 'the task module (.js, .mjs, or .ts with tsx installed)')
    .argument(
      '[input]',
      "a JSON-lines file of sample inputs (default: the module's bench() export)",
    )
    .option('--task <name>', 'the task to measure', 'default')
    .option(
      '--threads <list>',
      'comma-separated thread counts (default: 1, 2, 4... to the cores, and one past)',
    )
    .option('--time <duration>', 'measuring time of the whole run, e.g. 10s, 500ms', '10s')
    .option('--samples <n>', 'samples per point', '5')
    .option('--json <file>', 'write the report as JSON')
    .option('--chart <file.svg>', 'write an SVG chart of jobs/s and efficiency against threads')
    .option('--peers', "the project's comparison with the peer pools (from a checkout)")
    .option('--quick', 'with --peers: the short form (about a minute)')
    .option('--only <pools>', 'with --peers: comma-separated contestants, e.g. corral,piscina')
    .option('--scenario <numbers>', 'with --peers: comma-separated scenario numbers, e.g. 1,3')
    .action(async (module: string | undefined, input: string | undefined, flags: BenchFlags) => {
      if (module === undefined || flags.peers === true) {
        process.exitCode = await runPeerBench(flags);
        return;
      }
      process.exitCode = await runUserBench(module, input, flags);
    });
}

/** Checks the flags and the inputs; throws `CorralError`s, which mean exit code 2. */
async function prepare(
  module: string,
  input: string | undefined,
  flags: BenchFlags,
): Promise<Parameters<typeof benchmark>[0]> {
  const samples = Number(flags.samples ?? '5');
  if (!/^[1-9]\d*$/.test(flags.samples ?? '5')) {
    throw new InvalidOptionError('--samples', 'a positive integer', flags.samples);
  }
  if (flags.chart !== undefined && !flags.chart.endsWith('.svg')) {
    throw new InvalidOptionError('--chart', 'a file name ending in .svg', flags.chart);
  }
  const options = {
    module,
    task: flags.task ?? 'default',
    time: parseDuration(flags.time ?? '10s'),
    samples,
    ...(flags.threads === undefined ? {} : { threads: parseThreadList(flags.threads) }),
    ...(input === undefined ? {} : { inputs: await readSampleInputs(input) }),
  };
  resolveBenchmarkOptions(options);
  return options;
}

/** `corral bench MODULE [INPUT]`: resolves with the exit code. */
async function runUserBench(
  module: string,
  input: string | undefined,
  flags: BenchFlags,
): Promise<number> {
  let options: Parameters<typeof benchmark>[0];
  try {
    options = await prepare(module, input, flags);
  } catch (error) {
    return fail(error);
  }
  const resolved = resolveBenchmarkOptions(options);
  const points = resolved.threads.length + 1;
  const plan = planFor(resolved.time, points, resolved.samples);
  const pointMs = plan.warmUpMs + plan.sampleMs * plan.samples;
  const start = performance.now();
  let done = 0;
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
        format: 'corral bench [{bar}] {percentage}% | {point} | {elapsed}s',
      })
    : undefined;
  bar?.start(points * 100, 0, { point: 'inline' });
  // The bar moves with time inside a point (its length is planned), and jumps as points end.
  const timer = setInterval(() => {
    const inPoint = Math.min(0.99, (performance.now() - start - done * pointMs) / pointMs);
    bar?.update(Math.round((done + Math.max(0, inPoint)) * 100));
  }, 200);
  let report;
  try {
    report = await benchmark({
      ...options,
      onPoint: (n, total, label) => {
        done = n;
        bar?.update(n * 100, { point: label });
        if (bar === undefined) process.stderr.write(`corral bench: ${n}/${total} ${label} done\n`);
      },
    });
  } catch (error) {
    clearInterval(timer);
    bar?.stop();
    const code = (error as { code?: unknown } | null)?.code;
    return fail(error, typeof code === 'string' && BAD_INPUT.has(code) ? 2 : 1);
  }
  clearInterval(timer);
  bar?.stop();
  if (input !== undefined)
    report = { ...report, inputs: { ...report.inputs, source: 'file' as const } };
  process.stdout.write(renderReport(report));
  if (flags.json !== undefined) {
    await writeFile(flags.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`corral bench: report written to ${flags.json}\n`);
  }
  if (flags.chart !== undefined) {
    await writeFile(flags.chart, scalingChart(report));
    process.stderr.write(`corral bench: chart written to ${flags.chart}\n`);
  }
  return 0;
}

/** Error codes that mean the command was given something it cannot measure: exit code 2. */
const BAD_INPUT = new Set([
  'ERR_INVALID_OPTION',
  'ERR_UNKNOWN_TASK',
  'ERR_INPUT',
  'ERR_INVALID_RECORD',
  'ERR_MODULE_NOT_FOUND',
  'ERR_MODULE_LOAD',
  'ERR_TS_LOADER_MISSING',
  'ERR_UNKNOWN_FILE_EXTENSION',
]);

/** Writes the error on stderr and returns the exit code: 2 for bad input by default. */
function fail(error: unknown, code = 2): number {
  const message = error instanceof Error ? error.message : String(error);
  const cause =
    error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  process.stderr.write(`corral bench: ${message}${cause}\n`);
  return code;
}

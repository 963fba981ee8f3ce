/**
 * `benchmark(options)`: measures a task module inline and through pools of several thread
 * counts, and returns the report (see report.ts for its shape).
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { loadTaskModule } from '../../workers/load-module.js';
import { UnknownTaskError } from '../pool/errors.js';
import { InvalidOptionError } from '../util/errors.js';
import { advise } from './advice.js';
import { measureInline, measurePool, planFor } from './measure.js';
import { resolveBenchmarkOptions, type BenchmarkOptions } from './options.js';
import { toPoint, type BenchmarkPoint, type BenchmarkReport } from './report.js';
import { summarize } from './stats.js';

/** The task and its inputs, loaded on the main thread before anything is measured. */
interface Loaded {
  task: (input: unknown) => unknown;
  inputs: readonly unknown[];
  source: BenchmarkReport['inputs']['source'];
}

/** Imports the module (through tsx for `.ts`, as the threads do) and finds the task and inputs. */
async function load(
  module: URL,
  name: string,
  given: readonly unknown[] | undefined,
): Promise<Loaded> {
  const exports = await loadTaskModule(module.href);
  const task = exports[name];
  if (typeof task !== 'function') {
    const known = Object.keys(exports).filter(
      (k) => typeof exports[k] === 'function' && k !== 'bench',
    );
    throw new UnknownTaskError(name, known);
  }
  if (given !== undefined) return { task: task as Loaded['task'], inputs: given, source: 'api' };
  const bench = exports['bench'];
  if (typeof bench !== 'function') {
    throw new InvalidOptionError(
      'inputs',
      'given (an INPUT.jsonl file for the CLI), or a bench() export of the module returning sample inputs',
      undefined,
    );
  }
  const inputs: unknown = await (bench as () => unknown)();
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new InvalidOptionError('bench()', 'to return a non-empty array of sample inputs', inputs);
  }
  return { task: task as Loaded['task'], inputs, source: 'bench-export' };
}

/**
 * Measures a task: inline on the main thread (the ceiling of one core), then through a pool
 * at each thread count, each after a warm-up and over several samples. Resolves with the
 * report: jobs/s (median and spread), speedups, efficiency, run-time percentiles, the pool's
 * overhead per job, peak RSS, and plain-words advice. A task too small for threads is also
 * measured through `pool.execute`, which batches small jobs.
 *
 * The inline run calls the task as `task(input)`, without the context a thread passes; a `.ts`
 * module is imported on the main thread through the tsx of its project, which registers tsx's
 * hooks in this process too.
 *
 * Rejects with `ERR_INVALID_OPTION` for bad options or missing inputs, `ERR_UNKNOWN_TASK`
 * when the module has no such task, and with what the task threw if a job fails.
 *
 * @example
 * ```ts
 * import { benchmark } from 'corral';
 * const report = await benchmark({ module: './hash-worker.js', task: 'sha256', inputs, threads: [1, 2, 4] });
 * console.log(report.advice.messages.join('\n'));
 * ```
 */
export async function benchmark(options: BenchmarkOptions): Promise<BenchmarkReport> {
  const o = resolveBenchmarkOptions(options);
  const loaded = await load(o.module, o.task, o.inputs);
  const cores = availableParallelism();
  const total = o.threads.length + 1;
  const plan = planFor(o.time, total, o.samples);
  const rawInline = await measureInline(loaded.task, loaded.inputs, plan);
  o.onPoint?.(1, total, 'inline');
  const raws = [];
  for (const [i, threads] of o.threads.entries()) {
    raws.push(await measurePool(o.module, o.task, loaded.inputs, threads, plan));
    o.onPoint?.(i + 2, total, `${threads} thread${threads === 1 ? '' : 's'}`);
  }
  const inlineMedian = summarize(rawInline.samples).median;
  const one = raws[o.threads.indexOf(1)];
  const oneMedian = one === undefined ? NaN : summarize(one.samples).median;
  const inline = toPoint(rawInline, 'inline', 1, inlineMedian, oneMedian);
  const pool: BenchmarkPoint[] = raws.map((raw, i) =>
    toPoint(raw, 'pool', o.threads[i] ?? 1, inlineMedian, oneMedian),
  );
  let batched: BenchmarkPoint | null = null;
  const smallest = pool[0];
  if (smallest !== undefined && smallest.overheadMs > smallest.taskMs) {
    const threads = Math.max(...o.threads.filter((n) => n <= cores), o.threads[0] ?? 1);
    const raw = await measurePool(o.module, o.task, loaded.inputs, threads, plan, true);
    batched = toPoint(raw, 'batched', threads, inlineMedian, oneMedian);
  }
  return {
    module: o.module.href,
    task: o.task,
    inputs: { source: loaded.source, count: loaded.inputs.length },
    cores,
    plan,
    results: [inline, ...pool],
    batched,
    advice: advise(inline, pool, batched, cores),
  };
}

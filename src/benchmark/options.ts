/**
 * The options of `benchmark()` and `corral bench MODULE`, their defaults, and the one
 * validator whose messages name the option and show the value received.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidOptionError } from '../util/errors.js';

/** What `benchmark()` takes. */
export interface BenchmarkOptions {
  /** The task module: a `file:` URL or a path (relative to the current directory). `.ts` needs tsx in its project, as for a pool. */
  module: string | URL;
  /**
   * The task to measure.
   * @default 'default'
   */
  task?: string;
  /**
   * The sample inputs, cycled through for as long as a point runs. When left out, the module
   * must export `bench()` returning them (an array, or a promise of one), called once on the
   * main thread.
   * @default the module's `bench()`
   */
  inputs?: readonly unknown[];
  /**
   * The thread counts to measure, each a positive integer.
   * @default 1, 2, 4 ... up to the cores, and one step past them
   */
  threads?: readonly number[];
  /**
   * Measuring time of the whole run in milliseconds, shared evenly by the inline run and each
   * thread count (warm-ups come on top: a fifth of a point's time, at least 100 ms).
   * @default 10000
   */
  time?: number;
  /**
   * Samples per point: the median and spread are over these.
   * @default 5
   */
  samples?: number;
  /** Called as each point finishes (inline first, then each thread count), for progress. */
  onPoint?: (done: number, total: number, label: string) => void;
}

/** The options with every default filled in. */
export interface ResolvedBenchmarkOptions {
  module: URL;
  task: string;
  inputs: readonly unknown[] | undefined;
  threads: readonly number[];
  time: number;
  samples: number;
  onPoint: ((done: number, total: number, label: string) => void) | undefined;
}

/** 1, 2, 4 ... up to `cores`, then `cores` itself, then one step past it. */
export function defaultThreads(cores: number = availableParallelism()): number[] {
  const counts: number[] = [];
  for (let n = 1; n < cores; n *= 2) counts.push(n);
  counts.push(cores);
  counts.push(cores === 1 ? 2 : 2 ** Math.ceil(Math.log2(cores + 1)));
  return counts;
}

/** A `file:` URL from a URL or a path. */
function moduleUrl(module: unknown): URL {
  if (module instanceof URL) return module;
  if (typeof module !== 'string' || module === '') {
    throw new InvalidOptionError('module', 'a file: URL or a path', module);
  }
  if (module.startsWith('file:')) return new URL(module);
  return pathToFileURL(isAbsolute(module) ? module : resolve(module));
}

/** Checks the options and fills in the defaults. */
export function resolveBenchmarkOptions(options: BenchmarkOptions): ResolvedBenchmarkOptions {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  const task = options.task ?? 'default';
  if (typeof task !== 'string' || task === '') {
    throw new InvalidOptionError('task', 'a non-empty string', task);
  }
  const threads = options.threads ?? defaultThreads();
  if (
    !Array.isArray(threads) ||
    threads.length === 0 ||
    !threads.every((n) => Number.isSafeInteger(n) && (n as number) > 0)
  ) {
    throw new InvalidOptionError('threads', 'a non-empty list of positive integers', threads);
  }
  const time = options.time ?? 10_000;
  if (typeof time !== 'number' || !Number.isFinite(time) || time <= 0) {
    throw new InvalidOptionError('time', 'a positive number of milliseconds', time);
  }
  const samples = options.samples ?? 5;
  if (!Number.isSafeInteger(samples) || samples < 1) {
    throw new InvalidOptionError('samples', 'a positive integer', samples);
  }
  if (options.inputs !== undefined && !Array.isArray(options.inputs)) {
    throw new InvalidOptionError('inputs', 'an array', options.inputs);
  }
  if (options.inputs?.length === 0) {
    throw new InvalidOptionError('inputs', 'at least one input', options.inputs);
  }
  if (options.onPoint !== undefined && typeof options.onPoint !== 'function') {
    throw new InvalidOptionError('onPoint', 'a function', options.onPoint);
  }
  return {
    module: moduleUrl(options.module),
    task,
    inputs: options.inputs,
    // In increasing order, each once, so the speedups and the knee read left to right.
    threads: [...new Set(threads)].sort((a, b) => a - b),
    time,
    samples,
    onPoint: options.onPoint,
  };
}

/** `--threads 1,2,4` as a list; throws {@link InvalidOptionError} naming `--threads`. */
export function parseThreadList(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length === 0 || !parts.every((p) => /^[1-9]\d*$/.test(p))) {
    throw new InvalidOptionError(
      '--threads',
      'comma-separated positive integers, e.g. 1,2,4',
      text,
    );
  }
  return parts.map(Number);
}

/** `--time 10s`, `500ms`, `1m` or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const value =
    m === null ? NaN : Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 }[m[2] ?? 's'] ?? NaN);
  if (!Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError('--time', 'a positive duration, e.g. 10s or 500ms', text);
  }
  return value;
}

/**
 * The report of `corral bench MODULE`: its documented JSON shape (close to hyperfine's
 * export: each point has its `parameters` and `mean`, `stddev`, `median`, `min`, `max`,
 * `samples`), how the points are compared, and the text table.
 *
 * @module
 */
import type { RawPoint } from './measure.js';
import { summarize, type Summary } from './stats.js';

/** One measured point: the inline run, or a pool of some threads. Rates are in jobs/s. */
export interface BenchmarkPoint extends Summary {
  /** `'inline'`: the task on the main thread; `'pool'`: through `pool.do`; `'batched'`: through `pool.execute`. */
  mode: 'inline' | 'pool' | 'batched';
  /** The parameters of the point, as in hyperfine's export (`threads` is 1 for inline). */
  parameters: { threads: number };
  /** Jobs per second of each sample. */
  samples: number[];
  /** Jobs finished over the samples (warm-up left out). */
  jobs: number;
  /** Wall time over the samples, in seconds: `jobs / seconds` is the overall rate. */
  seconds: number;
  /** Median rate over the inline median. */
  speedupInline: number;
  /** Median rate over the median at 1 thread (NaN when 1 thread was not measured). */
  speedupOneThread: number;
  /** Median rate over `threads` x the inline median: 1 is perfect scaling. */
  efficiency: number;
  /**
   * One job's run time in ms: inline, timed around each call; on a pool, as `pool.stats()`
   * times it, from a thread taking the job until it settled, which includes the wait of a job
   * a busy thread holds (the benchmark keeps two jobs per thread).
   */
  runTime: { p50: number; p99: number };
  /** The task's own run time per job, in ms (inline: timed around each call; pool: the threads' busy time per job). */
  taskMs: number;
  /**
   * Thread time per job (threads / jobs per second) minus the task's own time, in ms: what
   * the pool costs a job. 0 for inline.
   */
  overheadMs: number;
  /** Peak resident set size of the process while the point ran, in bytes. */
  peakRss: number;
}

/** What `corral bench` found, in words and numbers. */
export interface BenchmarkAdvice {
  /** The fewest threads within 10% of the best jobs/s: adding threads past it stops paying. */
  knee: number;
  /** Cores of this machine (`os.availableParallelism()`). */
  cores: number;
  /** Whether the pool's overhead per job is above the task's own run time. */
  tooSmall: boolean;
  /** The findings, one sentence each. */
  messages: string[];
}

/** The whole report, as written by `--json`. */
export interface BenchmarkReport {
  /** The task module's `file:` URL. */
  module: string;
  task: string;
  /** Where the inputs came from, and how many. */
  inputs: { source: 'file' | 'bench-export' | 'api'; count: number };
  cores: number;
  /** Measuring time per point, and samples per point. */
  plan: { warmUpMs: number; sampleMs: number; samples: number };
  /** The inline point, then one per thread count in increasing order. */
  results: BenchmarkPoint[];
  /** With a task too small for threads: the largest thread count within the cores again, through `execute`. */
  batched: BenchmarkPoint | null;
  advice: BenchmarkAdvice;
}

/** A raw point compared with the inline and 1-thread medians. */
export function toPoint(
  raw: RawPoint,
  mode: BenchmarkPoint['mode'],
  threads: number,
  inlineMedian: number,
  oneThreadMedian: number,
): BenchmarkPoint {
  const summary = summarize(raw.samples);
  const threadMsPerJob = (threads * 1000) / summary.median;
  return {
    mode,
    parameters: { threads },
    ...summary,
    samples: raw.samples,
    jobs: raw.jobs,
    seconds: raw.seconds,
    speedupInline: summary.median / inlineMedian,
    speedupOneThread: summary.median / oneThreadMedian,
    efficiency: summary.median / (threads * inlineMedian),
    runTime: raw.runTime,
    taskMs: raw.taskMs,
    overheadMs: mode === 'inline' ? 0 : Math.max(0, threadMsPerJob - raw.taskMs),
    peakRss: raw.peakRss,
  };
}

/** `12,345`, `12.3`, `0.123`: three significant figures or a whole number. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return n.toPrecision(3);
}

/** The table's header and one row per point, as aligned text. */
export const TABLE_HEADER = [
  'threads',
  'jobs/s',
  '± stddev',
  'vs inline',
  'vs 1 thread',
  'efficiency',
  'p50 ms',
  'p99 ms',
  'overhead µs/job',
  'peak RSS MB',
];
const WIDTHS = TABLE_HEADER.map((h) => Math.max(h.length, 9));

/** One table row, padded to the header's widths. */
export function tableRow(cells: readonly string[]): string {
  return cells.map((c, i) => c.padStart(WIDTHS[i] ?? 9)).join('  ');
}

/** The cells of a point's row. */
export function pointCells(p: BenchmarkPoint): string[] {
  const label =
    p.mode === 'inline'
      ? 'inline'
      : p.mode === 'batched'
        ? `${p.parameters.threads} exec`
        : String(p.parameters.threads);
  return [
    label,
    fmt(p.median),
    fmt(p.stddev),
    `${fmt(p.speedupInline)}x`,
    p.mode === 'inline' ? '' : `${fmt(p.speedupOneThread)}x`,
    fmt(p.efficiency),
    fmt(p.runTime.p50),
    fmt(p.runTime.p99),
    p.mode === 'inline' ? '' : fmt(p.overheadMs * 1000),
    fmt(p.peakRss / 2 ** 20),
  ];
}

/** The whole table, header first, and the advice below it. */
export function renderReport(report: BenchmarkReport): string {
  const lines = [tableRow(TABLE_HEADER)];
  for (const p of report.results) lines.push(tableRow(pointCells(p)));
  if (report.batched !== null) lines.push(tableRow(pointCells(report.batched)));
  lines.push('', ...report.advice.messages);
  return `${lines.join('\n')}\n`;
}

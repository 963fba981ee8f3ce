/**
 * The scaling chart of a benchmark report: jobs/s (median, with min-max bars) and efficiency
 * against threads, with the ideal line (inline jobs/s x threads) and the inline rate.
 *
 * @module
 */
import type { BenchmarkReport } from './report.js';
import { lineChart } from './svg.js';

/**
 * The report's chart as an SVG document: one series per measure (`jobs-per-second`,
 * `efficiency`), one point per thread count, and the `ideal` and `inline` reference lines.
 */
export function scalingChart(report: BenchmarkReport): string {
  const inline = report.results.find((p) => p.mode === 'inline');
  const pool = report.results.filter((p) => p.mode === 'pool');
  const inlineRate = inline?.median ?? NaN;
  const maxEfficiency = Math.max(1, ...pool.map((p) => p.efficiency).filter(Number.isFinite));
  return lineChart({
    title: `corral bench: ${report.task} (${decodeURIComponent(report.module.split('/').at(-1) ?? '')}), ${report.cores} cores`,
    xLabel: 'threads',
    categories: pool.map((p) => String(p.parameters.threads)),
    left: { label: 'jobs/s (median, min-max)' },
    right: {
      label: 'efficiency (jobs/s / (threads x inline))',
      max: Math.ceil(maxEfficiency * 5) / 5,
      format: (v) => `${Math.round(v * 100)}%`,
    },
    lines: [
      {
        id: 'ideal',
        name: 'ideal (inline x threads)',
        color: '#868e96',
        axis: 'left',
        values: pool.map((p) => inlineRate * p.parameters.threads),
        reference: true,
      },
      {
        id: 'inline',
        name: 'inline',
        color: '#37b24d',
        axis: 'left',
        values: pool.map(() => inlineRate),
        reference: true,
      },
      {
        id: 'jobs-per-second',
        name: 'jobs/s',
        color: '#1c7ed6',
        axis: 'left',
        values: pool.map((p) => p.median),
        low: pool.map((p) => p.min),
        high: pool.map((p) => p.max),
      },
      {
        id: 'efficiency',
        name: 'efficiency',
        color: '#e8590c',
        axis: 'right',
        values: pool.map((p) => p.efficiency),
      },
    ],
  });
}

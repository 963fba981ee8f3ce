/**
 * Median, spread and percentiles of a few samples. Written here rather than taken from
 * tinybench: tinybench times one function called over and over on one thread, while a
 * point of `corral bench` is a rate measured over a time window through a pool, so only
 * these few lines of arithmetic would be shared, and users would carry the dependency.
 *
 * @module
 */

/** A summary of samples, the fields of hyperfine's JSON export. */
export interface Summary {
  mean: number;
  /** Sample standard deviation (n - 1); 0 for a single sample. */
  stddev: number;
  median: number;
  min: number;
  max: number;
}

/** The value below which a fraction `q` (0 to 1) of the values lie, by nearest rank. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = values.toSorted((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

/** Mean, standard deviation, median, min and max of some numbers (NaN for none). */
export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { mean: NaN, stddev: NaN, median: NaN, min: NaN, max: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  const sorted = values.toSorted((a, b) => a - b);
  const mid = n >> 1;
  const median =
    n % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
  return {
    mean,
    stddev: Math.sqrt(variance),
    median,
    min: sorted[0] ?? NaN,
    max: sorted[n - 1] ?? NaN,
  };
}

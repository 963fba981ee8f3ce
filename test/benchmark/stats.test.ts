/** The benchmark's arithmetic and option parsing: summaries, percentiles, the knee, thread lists. */
import { describe, expect, it } from 'vitest';
import { percentile, summarize } from '#internal/benchmark/stats.js';
import { findKnee } from '#internal/benchmark/advice.js';
import {
  defaultThreads,
  parseDuration,
  parseThreadList,
  resolveBenchmarkOptions,
} from '#internal/benchmark/options.js';
import type { BenchmarkPoint } from 'corral';

describe('summarize and percentile', () => {
  it('gives hyperfine-like fields', () => {
    expect(summarize([4, 1, 3, 2])).toEqual({
      mean: 2.5,
      stddev: Math.sqrt(5 / 3),
      median: 2.5,
      min: 1,
      max: 4,
    });
    expect(summarize([7])).toMatchObject({ mean: 7, stddev: 0, median: 7 });
    expect(Number.isNaN(summarize([]).mean)).toBe(true);
  });

  it('takes percentiles by nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.99)).toBe(99);
    expect(percentile([3], 0.99)).toBe(3);
  });
});

describe('findKnee', () => {
  const at = (threads: number, median: number): BenchmarkPoint =>
    ({ mode: 'pool', parameters: { threads }, median }) as BenchmarkPoint;

  it('is the fewest threads within 10% of the best rate', () => {
    expect(findKnee([at(1, 100), at(2, 190), at(4, 200), at(8, 150)])).toBe(2);
    expect(findKnee([at(1, 100), at(2, 190), at(4, 370)])).toBe(4);
    expect(findKnee([at(1, 100), at(2, 95)])).toBe(1);
    // A dip does not hide a later gain.
    expect(findKnee([at(1, 100), at(2, 105), at(4, 180)])).toBe(4);
  });
});

describe('options', () => {
  it('defaults to powers of two up to the cores, the cores, and one step past', () => {
    expect(defaultThreads(2)).toEqual([1, 2, 4]);
    expect(defaultThreads(6)).toEqual([1, 2, 4, 6, 8]);
    expect(defaultThreads(1)).toEqual([1, 2]);
  });

  it('parses --threads and --time, naming the option and the value on error', () => {
    expect(parseThreadList('1, 2,4')).toEqual([1, 2, 4]);
    for (const bad of ['0', 'abc', '1,,2', '-1', '1.5', '']) {
      expect(() => parseThreadList(bad)).toThrow(/--threads.*received/);
    }
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2')).toBe(2000);
    expect(parseDuration('1m')).toBe(60_000);
    for (const bad of ['0s', 'x', '-1s', '1h']) {
      expect(() => parseDuration(bad)).toThrow(/--time.*received/);
    }
  });

  it('rejects bad options with ERR_INVALID_OPTION, and sorts thread counts', () => {
    expect(resolveBenchmarkOptions({ module: 'm.js', threads: [4, 1, 2, 1] }).threads).toEqual([
      1, 2, 4,
    ]);
    for (const bad of [
      { module: 'm.js', threads: [0] },
      { module: 'm.js', threads: [] },
      { module: 'm.js', time: 0 },
      { module: 'm.js', inputs: [] },
      { module: '' },
    ]) {
      expect(() => resolveBenchmarkOptions(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION' }) as Error,
      );
    }
  });
});

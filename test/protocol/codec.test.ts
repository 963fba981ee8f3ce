import { describe, expect, it } from 'vitest';
import {
  JobFlag,
  RESULT_STRIDE,
  RUN_STRIDE,
  ResultStatus,
  TRANSFER,
  isTransfer,
  jobFlags,
  pushJob,
  pushResult,
  readJobs,
  readResults,
  resultId,
  splitResults,
} from '#internal/protocol/codec.js';
import { Transfer, transfer } from 'corral/worker';

describe('batch codec: jobs', () => {
  it('round-trips every field of every job, in order', () => {
    const batch: unknown[] = [];
    pushJob(batch, 1, 0, { a: 1 }, 1, jobFlags(false, false));
    pushJob(batch, 2, 3, 'x', 2, jobFlags(true, false));
    pushJob(batch, 7, 1, undefined, 5, jobFlags(false, true));
    pushJob(batch, 9, 2, null, 1_000_000, jobFlags(true, true));
    expect(batch).toHaveLength(4 * RUN_STRIDE);
    const seen: unknown[][] = [];
    readJobs(batch, (id, task, input, tries, flags) => seen.push([id, task, input, tries, flags]));
    expect(seen).toEqual([
      [1, 0, { a: 1 }, 1, 0],
      [2, 3, 'x', 2, JobFlag.Progress],
      [7, 1, undefined, 5, JobFlag.Timed],
      [9, 2, null, 1_000_000, JobFlag.Progress | JobFlag.Timed],
    ]);
  });

  it('survives structured cloning (what postMessage does to it)', () => {
    const batch: unknown[] = [];
    pushJob(batch, 42, 1, new Map([[1, 2]]), 3, JobFlag.Timed);
    const seen: unknown[][] = [];
    readJobs(structuredClone(batch), (...args) => seen.push(args));
    expect(seen).toEqual([[42, 1, new Map([[1, 2]]), 3, JobFlag.Timed]]);
  });

  it('fills a packed array (no holes: cloned densely)', () => {
    const batch: unknown[] = [];
    for (let i = 0; i < 10; i++) pushJob(batch, i, 0, undefined, 1, 0);
    expect(batch).toHaveLength(10 * RUN_STRIDE);
    for (let i = 0; i < batch.length; i++) expect(i in batch).toBe(true);
  });

  it('reads nothing from an empty batch', () => {
    let calls = 0;
    readJobs([], () => calls++);
    expect(calls).toBe(0);
  });
});

describe('batch codec: results', () => {
  it('round-trips id, status and value, in order', () => {
    const out: unknown[] = [];
    pushResult(out, 3, ResultStatus.Ok, 'three');
    pushResult(out, 4, ResultStatus.Error, { name: 'RangeError', message: 'no' });
    pushResult(out, 5, ResultStatus.Dropped, undefined);
    expect(out).toHaveLength(3 * RESULT_STRIDE);
    const seen: unknown[][] = [];
    readResults(out, (id, status, value) => seen.push([id, status, value]));
    expect(seen).toEqual([
      [3, ResultStatus.Ok, 'three'],
      [4, ResultStatus.Error, { name: 'RangeError', message: 'no' }],
      [5, ResultStatus.Dropped, undefined],
    ]);
  });

  it('splits a batch into one batch per result, each readable alone', () => {
    const out: unknown[] = [];
    pushResult(out, 1, ResultStatus.Ok, 10);
    pushResult(out, 2, ResultStatus.Ok, 20);
    const parts = splitResults(out);
    expect(parts.map(resultId)).toEqual([1, 2]);
    const seen: unknown[] = [];
    for (const part of parts) readResults(part, (_id, _status, value) => seen.push(value));
    expect(seen).toEqual([10, 20]);
  });
});

describe('transfer brand', () => {
  it("recognises corral/worker's Transfer by its Symbol.for brand", () => {
    const buffer = new ArrayBuffer(8);
    const marked = transfer(buffer, [buffer]) as unknown;
    expect(isTransfer(marked)).toBe(true);
    expect(marked instanceof Transfer).toBe(true);
  });

  it('recognises a Transfer made by another copy (same brand, other class)', () => {
    const other = { value: 1, list: [], [Symbol.for('corral.transfer')]: true };
    expect(TRANSFER).toBe(Symbol.for('corral.transfer'));
    expect(isTransfer(other)).toBe(true);
  });

  it('does not take a plain value, or one that only looks like a Transfer', () => {
    for (const value of [undefined, null, 1, 'x', { value: 1, list: [] }, [1, 2]]) {
      expect(isTransfer(value)).toBe(false);
    }
  });
});

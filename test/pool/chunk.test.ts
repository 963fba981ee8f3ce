/** The pure functions of src/pool/chunk.ts: chunk sizes, and each input's fate from a chunk's answers or its thread's death. */
import { describe, expect, it } from 'vitest';
import { Job } from '#internal/pool/job.js';
import type { ResolvedOptions } from '#internal/pool/options.js';
import { Fate, MAX_CHUNK, chunkSize, cutChunk, judgeAnswers, tally } from '#internal/pool/chunk.js';
import { ResultStatus } from '#internal/protocol/codec.js';
import { toWire } from '#internal/protocol/wire-error.js';

/** A chunk job of `inputs`, sent `tries` times, as the engine holds it. */
function chunkJob(inputs: unknown[], tries: number, maxTries: number): Job {
  const pool = { maxTries, timeout: 0, queueFull: 'wait' } as unknown as ResolvedOptions;
  return new Job(1, inputs, {}, pool, { chunk: true, tries });
}

const wire = (message: string, retry = false) => ({ ...toWire(new Error(message)), retry });

/** The fates' kinds and second entries, with errors shown as their code or message. */
function show(fates: unknown[]): [unknown, unknown][] {
  const out: [unknown, unknown][] = [];
  for (let i = 0; i < fates.length; i += 2) {
    const v = fates[i + 1];
    const shown = v instanceof Error ? ((v as Error & { code?: string }).code ?? v.message) : v;
    out.push([fates[i], shown]);
  }
  return out;
}

describe('chunk functions', () => {
  it('chunkSize: 1 while the cost is unknown, about 0.25 ms of work, at most MAX_CHUNK', () => {
    expect(chunkSize(undefined)).toBe(1);
    expect(chunkSize(0)).toBe(MAX_CHUNK);
    expect(chunkSize(0.0001)).toBe(MAX_CHUNK);
    expect(chunkSize(0.01)).toBe(25);
    expect(chunkSize(0.125)).toBe(2);
    expect(chunkSize(0.2)).toBe(1);
    expect(chunkSize(5)).toBe(1);
  });

  it('judgeAnswers: errors become Errors, retryable ones Retry while the chunk has tries', () => {
    const answers = (): unknown[] => [
      ResultStatus.Ok,
      'a',
      ResultStatus.Error,
      wire('plain'),
      ResultStatus.Error,
      wire('again', true),
    ];
    const once = judgeAnswers(chunkJob([1, 2, 3], 1, 2), answers());
    expect(show(once)).toEqual([
      [Fate.Ok, 'a'],
      [Fate.Failed, 'plain'],
      [Fate.Retry, 1], // tries used so far: the retry is the second
    ]);
    expect(once[3]).toBeInstanceOf(Error);
    // No tries left: the retryable error is the input's outcome.
    const last = judgeAnswers(chunkJob([1, 2, 3], 2, 2), answers());
    expect(show(last)).toEqual([
      [Fate.Ok, 'a'],
      [Fate.Failed, 'plain'],
      [Fate.Failed, 'again'],
    ]);
  });

  // A chunk of 5 inputs whose first has sequence number 10; the thread died while running
  // its third (seq 12): STARTED 12, FINISHED 11.
  const cut: [number, number, number] = [10, 12, 11];
  const died = new Error('died');

  it('cutChunk: the Part keeps its answers, the running input is charged a try, the rest never started', () => {
    const job = chunkJob([0, 1, 2, 3, 4], 1, 1);
    job.keepPart([ResultStatus.Ok, 'v0', ResultStatus.Error, wire('e1')]);
    const fates = cutChunk(job, cut, died, false);
    expect(show(fates)).toEqual([
      [Fate.Ok, 'v0'],
      [Fate.Failed, 'e1'],
      [Fate.Failed, 'ERR_WORKER_CRASHED'],
      [Fate.Requeue, 0],
      [Fate.Requeue, 0],
    ]);
    expect((fates[5] as Error).cause).toBe(died);
    expect(tally(fates)).toEqual({ ok: 1, failed: 2, retried: 0 });
    // With a try left, the running input is retried (with the try it used counted).
    const retry = chunkJob([0, 1, 2, 3, 4], 1, 2);
    retry.keepPart([ResultStatus.Ok, 'v0', ResultStatus.Ok, 'v1']);
    expect(show(cutChunk(retry, cut, died, false))).toEqual([
      [Fate.Ok, 'v0'],
      [Fate.Ok, 'v1'],
      [Fate.Retry, 1],
      [Fate.Requeue, 0],
      [Fate.Requeue, 0],
    ]);
  });

  it('cutChunk: without a Part (a hard crash), finished inputs are judged as finished jobs whose result was lost', () => {
    // maxTries 2: they run again without using a try.
    const fates = cutChunk(chunkJob([0, 1, 2, 3, 4], 1, 2), cut, died, false);
    expect(show(fates)).toEqual([
      [Fate.Retry, 0],
      [Fate.Retry, 0],
      [Fate.Retry, 1],
      [Fate.Requeue, 0],
      [Fate.Requeue, 0],
    ]);
    expect(tally(fates)).toEqual({ ok: 0, failed: 0, retried: 3 });
    // maxTries 1: they may not run twice: lost.
    const once = cutChunk(chunkJob([0, 1, 2, 3, 4], 1, 1), cut, died, false);
    expect(show(once).map(([fate]) => fate)).toEqual([
      Fate.Failed,
      Fate.Failed,
      Fate.Failed,
      Fate.Requeue,
      Fate.Requeue,
    ]);
    expect((once[1] as Error).message).toMatch(/before sending the result/);
    expect((once[5] as Error).message).toMatch(/died/);
    // Killed by the pool: a finished input's lost result is not its doing.
    const killed = cutChunk(chunkJob([0, 1, 2, 3, 4], 1, 1), cut, died, true);
    expect(show(killed).map(([fate]) => fate)).toEqual([
      Fate.Retry,
      Fate.Retry,
      Fate.Failed,
      Fate.Requeue,
      Fate.Requeue,
    ]);
  });

  it('cutChunk: a Part judges retryable errors like a Chunk answer', () => {
    const job = chunkJob([0, 1, 2], 1, 2);
    job.keepPart([ResultStatus.Error, wire('again', true)]);
    expect(show(cutChunk(job, [10, 11, 10], died, false))).toEqual([
      [Fate.Retry, 1],
      [Fate.Retry, 1],
      [Fate.Requeue, 0],
    ]);
  });
});

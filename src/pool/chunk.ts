/**
 * Chunks on the main thread. A stream whose jobs are tiny and use no per-job feature
 * sends its inputs in chunks: one job (one held entry, one message entry, one result)
 * carrying several inputs, which the thread runs one after another, each under its own
 * sequence number. Most of a tiny job's cost is the job itself, not the task: a chunk
 * shares it among its inputs. This module says what became of each input of a chunk
 * (its value, its error, or that it runs again on its own, and with how many tries used),
 * from the thread's answers or, when the thread died, from crash triage per input.
 *
 * @module
 */
import { ANSWER_STRIDE, ResultStatus } from '../protocol/codec.js';
import { fromWire, type WireError } from '../protocol/wire-error.js';
import { crashVerdict, phaseOf, type Verdict } from '../threads/triage.js';
import { WorkerCrashedError } from './errors.js';

/**
 * What became of one input of a chunk, the first entry of each pair of a chunk's fates;
 * the second is the value, the error, or (to run again) the tries the input has used.
 */
export const Fate = {
  Ok: ResultStatus.Ok,
  Failed: ResultStatus.Error,
  /** Runs again on its own, counted as a retry. */
  Retry: 5,
  /** Runs again on its own: it never started. */
  Requeue: 6,
} as const;
export type Fate = (typeof Fate)[keyof typeof Fate];

/** A chunk's fates: pairs of {@link Fate} and value, one pair per input, in input order. */
export type Fates = unknown[];

/** What judging a chunk needs of its job. */
export interface ChunkJob {
  readonly tries: number;
  readonly maxTries: number;
  readonly size: number;
  /** The answers its dying thread sent for its first inputs. */
  readonly part: unknown[] | undefined;
}

/** Inputs worth a chunk at most: beyond this the job's cost is already a small share. */
export const MAX_CHUNK = 64;

/** A chunk should take about this long (ms), so one never holds a thread for long. */
const CHUNK_MS = 0.25;

/** How many inputs to put in a chunk, when one job of the task takes `jobMs` (unknown: 1). */
export function chunkSize(jobMs: number | undefined): number {
  if (jobMs === undefined) return 1;
  return Math.max(1, Math.min(MAX_CHUNK, Math.floor(CHUNK_MS / Math.max(jobMs, 1e-6))));
}

/**
 * Turns a chunk's answers (as its thread sent them) into fates, in place: an error becomes
 * the Error it was, or `Retry` when it is retryable and the chunk has tries left.
 */
export function judgeAnswers(job: ChunkJob, answers: unknown[]): Fates {
  for (let i = 0; i < answers.length; i += ANSWER_STRIDE) {
    if (answers[i] !== ResultStatus.Error) continue;
    const wire = answers[i + 1] as WireError;
    if (wire.retry && job.tries < job.maxTries) {
      answers[i] = Fate.Retry;
      answers[i + 1] = job.tries;
    } else answers[i + 1] = fromWire(wire);
  }
  return answers;
}

/**
 * The fates of a chunk whose thread died while running it: the inputs it answered before
 * dying (`job.part`) keep their answers; each other input is judged by crash triage on its
 * own sequence number (`first + k`), as a job of its own would be.
 */
export function cutChunk(
  job: ChunkJob,
  [first, started, finished]: [number, number, number],
  error: unknown,
  killedByPool: boolean,
): Fates {
  const fates = job.part === undefined ? [] : judgeAnswers(job, job.part);
  for (let k = fates.length / ANSWER_STRIDE; k < job.size; k++) {
    const phase = phaseOf(first + k, started, finished);
    const verdict = crashVerdict(phase, job.tries, job.maxTries, killedByPool);
    switch (verdict) {
      case 'requeue':
        fates.push(Fate.Requeue, job.tries - 1);
        break;
      case 'rerun':
        fates.push(Fate.Retry, job.tries - 1);
        break;
      case 'retry':
        fates.push(Fate.Retry, job.tries);
        break;
      default:
        fates.push(Fate.Failed, crashError(verdict, error));
    }
  }
  return fates;
}

/** The error of a job that died with its thread and does not run again. */
export function crashError(verdict: Verdict, error: unknown): WorkerCrashedError {
  const message =
    verdict === 'lost'
      ? 'the thread died before sending the result of this job (it had finished; maxTries is 1, so it is not run again)'
      : 'the thread running the job died';
  // A worker process's end (its signal or exit code) is worth saying in the job's own error.
  const how = error instanceof WorkerCrashedError ? ` (${error.message})` : '';
  return new WorkerCrashedError(message + how, { cause: error });
}

/** Counts a chunk's fates: inputs that succeeded, failed, and run again as retries. */
export function tally(fates: Fates): { ok: number; failed: number; retried: number } {
  let ok = 0;
  let failed = 0;
  let retried = 0;
  for (let i = 0; i < fates.length; i += ANSWER_STRIDE) {
    const fate = fates[i];
    if (fate === Fate.Ok) ok++;
    else if (fate === Fate.Failed) failed++;
    else if (fate === Fate.Retry) retried++;
  }
  return { ok, failed, retried };
}

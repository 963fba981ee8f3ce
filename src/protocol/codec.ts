/**
 * The batch codec: how jobs and results are laid out in the flat arrays of `run` and
 * `results` messages. Both sides of the thread boundary encode and decode here, so the
 * layout is written down once.
 *
 * Flat arrays of primitives, a fixed stride per entry, filled by `push`: a packed array
 * is cloned densely, while an array of objects (or a preallocated, holey one) is cloned
 * key by key, which is several times slower.
 */
import type { Transferable } from 'node:worker_threads';

/** Flags carried with each job. */
export const JobFlag = {
  /** The caller listens for progress: the worker posts `progress` messages. */
  Progress: 1,
  /** The job has a timeout: the worker posts `started` so the pool starts its clock. */
  Timed: 2,
  /**
   * A chunk: the input is an array of inputs, each run as a job of its own (one after
   * another, each with its own sequence number), answered by one `Chunk` result.
   */
  Chunk: 4,
  /**
   * Traced: the input is `[traceparent, input]`, the W3C trace context the task runs in
   * (see src/observe/trace.ts and workers/trace.ts).
   */
  Traced: 8,
} as const;

/** Bits of the meta entry that hold the flags; the rest holds the tries (a multiplier, not a shift). */
const FLAG_BITS = 16;

/** Entries per job in a run batch: id, task index, input, tries * FLAG_BITS + flags. */
export const RUN_STRIDE = 4;
/** Entries per result in a results batch: id, status, value or error. */
export const RESULT_STRIDE = 3;

/** Status of one result in a results batch. */
export const ResultStatus = {
  Ok: 0,
  Error: 1,
  /** Given back by the worker before it started (cancelled, or stolen for another thread). */
  Dropped: 2,
  /**
   * A chunk's answer: the value is {@link ChunkAnswer} for its inputs from the first, as
   * far as it ran (all of them, unless it was cancelled).
   */
  Chunk: 3,
  /**
   * Sent by a thread about to die in the middle of a chunk: the answers of the inputs it
   * finished. The chunk itself is then judged by crash triage.
   */
  Part: 4,
} as const;
export type ResultStatus = (typeof ResultStatus)[keyof typeof ResultStatus];

// ---------------------------------------------------------------- jobs (main -> worker)

/** The flags of a job: whether it reports progress, has a timeout, is a chunk. */
export function jobFlags(progress: boolean, timed: boolean, chunk = false): number {
  return (
    (progress ? JobFlag.Progress : 0) | (timed ? JobFlag.Timed : 0) | (chunk ? JobFlag.Chunk : 0)
  );
}

/** Appends one job to a run batch. `tries` counts this attempt (1 for the first). */
export function pushJob(
  batch: unknown[],
  id: number,
  task: number,
  input: unknown,
  tries: number,
  flags: number,
): void {
  batch.push(id, task, input, tries * FLAG_BITS + flags);
}

/** What a run batch needs of a job (the pool's `Job`, seen from the wire). */
export interface SendableJob {
  readonly id: number;
  readonly task: string;
  readonly input: unknown;
  readonly tries: number;
  readonly onProgress: unknown;
  readonly timeout: number;
  readonly chunk: boolean;
  readonly transfer: readonly Transferable[] | undefined;
  /** The job's trace context, when it is traced. */
  readonly traceparent?: string | undefined;
}

/** Lays out jobs as a run batch, with what they move; `taskIndex` names each task by index. */
export function encodeRun(
  jobs: readonly SendableJob[],
  taskIndex: ReadonlyMap<string, number>,
): { batch: unknown[]; transfer: Transferable[] | undefined } {
  const batch: unknown[] = [];
  let transfer: Transferable[] | undefined;
  let task = '';
  let index = 0;
  for (const job of jobs) {
    if (job.task !== task) {
      task = job.task;
      index = taskIndex.get(task) as number; // the pool sends only tasks the thread reported
    }
    const flags = jobFlags(job.onProgress !== undefined, job.timeout > 0, job.chunk);
    const traceparent = job.traceparent;
    if (traceparent === undefined) pushJob(batch, job.id, index, job.input, job.tries, flags);
    else {
      pushJob(batch, job.id, index, [traceparent, job.input], job.tries, flags | JobFlag.Traced);
    }
    if (job.transfer !== undefined && job.transfer.length > 0) {
      transfer = transfer === undefined ? [...job.transfer] : transfer.concat(job.transfer);
    }
  }
  return { batch, transfer };
}

/** Calls `job` with each job of a run batch, in order. */
export function readJobs(
  batch: readonly unknown[],
  job: (id: number, task: number, input: unknown, tries: number, flags: number) => void,
): void {
  for (let i = 0; i < batch.length; i += RUN_STRIDE) {
    const meta = batch[i + 3] as number;
    job(
      batch[i] as number,
      batch[i + 1] as number,
      batch[i + 2],
      Math.floor(meta / FLAG_BITS),
      meta % FLAG_BITS,
    );
  }
}

// ---------------------------------------------------------------- results (worker -> main)

/** Appends one result: the value (Ok), the serialised error (Error), or nothing (Dropped). */
export function pushResult(out: unknown[], id: number, status: ResultStatus, value: unknown): void {
  out.push(id, status, value);
}

/** Calls `result` with each result of a results batch, in order. */
export function readResults(
  batch: readonly unknown[],
  result: (id: number, status: ResultStatus, value: unknown) => void,
): void {
  for (let i = 0; i < batch.length; i += RESULT_STRIDE) {
    result(batch[i] as number, batch[i + 1] as ResultStatus, batch[i + 2]);
  }
}

/**
 * The answers of a chunk's inputs, in order: for each, `Ok` and its value, or `Error` and
 * the serialised error (a flat array, for the same reason as the batches).
 */
export type ChunkAnswer = unknown[];

/** Entries per input in a {@link ChunkAnswer}. */
export const ANSWER_STRIDE = 2;

/** Splits a results batch into one batch per result (to find the one that cannot be cloned). */
export function splitResults(batch: readonly unknown[]): unknown[][] {
  const out: unknown[][] = [];
  for (let i = 0; i < batch.length; i += RESULT_STRIDE) out.push(batch.slice(i, i + RESULT_STRIDE));
  return out;
}

/** The id of the only result of a batch made by {@link splitResults}. */
export function resultId(one: readonly unknown[]): number {
  return one[0] as number;
}

// ---------------------------------------------------------------- transfer

/**
 * The brand of a `Transfer` (a result to be moved, not copied). `Symbol.for` is shared by
 * every copy of corral in the thread, so a task module that imports another copy of
 * `corral/worker` than the pool's runtime still has its results transferred.
 */
export const TRANSFER = Symbol.for('corral.transfer');

/** A result marked for transfer: `value` goes to the caller, `list` is moved. */
export interface Transferring {
  readonly value: unknown;
  readonly list: readonly Transferable[];
}

/** Whether a task's result is marked for transfer (by its brand, not `instanceof`). */
export function isTransfer(value: unknown): value is Transferring {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[TRANSFER] === true
  );
}

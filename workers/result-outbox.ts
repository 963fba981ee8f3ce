/**
 * The results a thread has not sent yet: collected as jobs finish and sent in one
 * `results` message (flat, see the codec), with what they transfer, the busy time they
 * took and the thread's stdio count.
 */
import type { Transferable } from 'node:worker_threads';
import { workerData } from 'node:worker_threads';
import type { BootData, FromWorker } from '../src/protocol/messages.js';
import {
  ANSWER_STRIDE,
  ResultStatus,
  isTransfer,
  pushResult,
  resultId,
  splitResults,
} from '../src/protocol/codec.js';
import { cloneFailure, toWire } from '../src/protocol/wire-error.js';
import { stdioWritten } from './stdio.js';

const port = (workerData as BootData).port;

let out: unknown[] = [];
/** Jobs whose results are held (a chunk counts as its inputs). */
let jobs = 0;
let outTransfer: Transferable[] | undefined;
/** Milliseconds of work the results held took. */
let busy = 0;

/** Jobs whose results are held (a chunk counts as its inputs). */
export function held(): number {
  return jobs;
}

/** Adds to the busy time the next message reports. */
export function addBusy(ms: number): void {
  busy += ms;
}

/** Moves `list` with the next message. */
export function addTransfer(list: readonly Transferable[]): void {
  outTransfer = outTransfer === undefined ? [...list] : outTransfer.concat(list);
}

/** Adds a job's outcome (its value, or the error it threw or rejected with). */
export function finish(id: number, ok: boolean, value: unknown): void {
  if (ok && isTransfer(value)) {
    addTransfer(value.list);
    value = value.value;
  }
  pushResult(out, id, ok ? ResultStatus.Ok : ResultStatus.Error, ok ? value : toWire(value));
  jobs++;
}

/** Adds a result of another status (Dropped, Chunk, Part), for `count` jobs. */
export function answer(id: number, status: ResultStatus, value: unknown, count = 1): void {
  pushResult(out, id, status, value);
  jobs += count;
}

/** Posts a message to the pool. */
export function post(message: FromWorker, transfer?: Transferable[]): void {
  port.postMessage(message, transfer);
}

/** Sends the results held, if any. */
export function flush(): void {
  if (out.length === 0) return;
  const batch = out;
  const transfer = outTransfer;
  const stdio = stdioWritten();
  const message: FromWorker = { type: 'results', batch, busy, stdio };
  out = [];
  jobs = 0;
  outTransfer = undefined;
  busy = 0;
  try {
    post(message, transfer);
  } catch {
    // A result that cannot be cloned: send them one by one so only that job fails.
    for (const one of splitResults(batch)) {
      try {
        post({ type: 'results', batch: one, busy: 0, stdio }, transfer);
      } catch (error) {
        post({ type: 'results', batch: cloneable(one, error), busy: 0, stdio });
      }
    }
  }
}

/**
 * A result that could not be cloned, made sendable: the error in its place, or for a chunk,
 * in the place of each of its inputs' values that cannot be cloned (the others keep theirs).
 */
function cloneable(one: unknown[], error: unknown): unknown[] {
  const id = resultId(one);
  const [, status, value] = one;
  const out: unknown[] = [];
  if (status !== ResultStatus.Chunk && status !== ResultStatus.Part) {
    pushResult(out, id, ResultStatus.Error, cloneFailure(error));
    return out;
  }
  const answer = [...(value as unknown[])];
  for (let i = 0; i < answer.length; i += ANSWER_STRIDE) {
    try {
      structuredClone(answer[i + 1]);
    } catch (e) {
      answer[i] = ResultStatus.Error;
      answer[i + 1] = cloneFailure(e);
    }
  }
  pushResult(out, id, status, answer);
  return out;
}

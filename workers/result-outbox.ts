/**
 * The results a thread has not sent yet: collected as jobs finish and sent in one
 * `results` message (flat, see the codec), with what they transfer, the busy time they
 * took and the thread's stdio count. (Not the NATS client's job outbox,
 * `src/nats/queue/outbox.ts`: this one carries results from a thread to its pool.)
 */
import type { Transferable } from 'node:worker_threads';
import type { FromWorker, Outlet } from '../src/protocol/messages.js';
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

export class ResultOutbox {
  readonly #port: Outlet;
  /** Whether each outcome is sent as it is added (see the constructor). */
  readonly #eager: boolean;
  #out: unknown[] = [];
  /** Jobs whose results are held (a chunk counts as its inputs). */
  #jobs = 0;
  #outTransfer: Transferable[] | undefined;
  /** Milliseconds of work the results held took. */
  #busy = 0;

  /**
   * Sends over `port`, the thread's port to its pool. `eager`: each job's outcome goes out
   * as it is added (a child process, where a signal would lose what waits here).
   */
  constructor(port: Outlet, eager = false) {
    this.#port = port;
    this.#eager = eager;
  }

  /** Jobs whose results are held (a chunk counts as its inputs). */
  held(): number {
    return this.#jobs;
  }

  /** Adds to the busy time the next message reports. */
  addBusy(ms: number): void {
    this.#busy += ms;
  }

  /** Moves `list` with the next message. */
  addTransfer(list: readonly Transferable[]): void {
    this.#outTransfer =
      this.#outTransfer === undefined ? [...list] : this.#outTransfer.concat(list);
  }

  /** Adds a job's outcome (its value, or the error it threw or rejected with). */
  finish(id: number, ok: boolean, value: unknown): void {
    if (ok && isTransfer(value)) {
      this.addTransfer(value.list);
      value = value.value;
    }
    pushResult(
      this.#out,
      id,
      ok ? ResultStatus.Ok : ResultStatus.Error,
      ok ? value : toWire(value),
    );
    this.#jobs++;
    if (this.#eager) this.flush();
  }

  /** Adds a result of another status (Dropped, Chunk, Part), for `count` jobs. */
  answer(id: number, status: ResultStatus, value: unknown, count = 1): void {
    pushResult(this.#out, id, status, value);
    this.#jobs += count;
  }

  /** Posts a message to the pool. */
  post(message: FromWorker, transfer?: Transferable[]): void {
    this.#port.postMessage(message, transfer);
  }

  /** Sends the results held, if any. */
  flush(): void {
    if (this.#out.length === 0) return;
    const batch = this.#out;
    const transfer = this.#outTransfer;
    const busy = this.#busy;
    const stdio = stdioWritten();
    const message: FromWorker = { type: 'results', batch, busy, stdio };
    this.#out = [];
    this.#jobs = 0;
    this.#outTransfer = undefined;
    this.#busy = 0;
    try {
      this.post(message, transfer);
    } catch {
      // A result that cannot be cloned: send them one by one so only that job fails.
      for (const one of splitResults(batch)) {
        try {
          this.post({ type: 'results', batch: one, busy: 0, stdio }, transfer);
        } catch (error) {
          this.post({ type: 'results', batch: cloneable(one, error), busy: 0, stdio });
        }
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

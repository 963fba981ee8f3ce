/**
 * The `ctx` a task receives. One per job, kept cheap: the AbortController is made
 * only when the task reads `ctx.signal`.
 */
import { AbortError } from '../src/util/errors.js';
import type { FromWorker, Outlet } from '../src/protocol/messages.js';
import type { TaskContext } from './index.js';

export class JobContext implements TaskContext {
  readonly id: number;
  readonly tries: number;
  readonly workerData: unknown;
  /** Order of receipt, set while the job runs asynchronously. */
  seq = 0;
  /** Where progress goes: the thread's port, or undefined when the caller does not listen. */
  readonly #progress: Outlet | undefined;
  /** Made on first read of `signal`. */
  #controller: AbortController | undefined;
  /** Set when the pool cancelled the job before anyone read `signal`. */
  #reason: unknown;

  constructor(id: number, tries: number, progress: Outlet | undefined, data: unknown) {
    this.id = id;
    this.tries = tries;
    this.#progress = progress;
    this.workerData = data;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  progress(value: unknown): void {
    if (this.#progress === undefined) return;
    const message: FromWorker = { type: 'progress', id: this.id, value };
    this.#progress.postMessage(message);
  }

  /** Whether the pool cancelled the job. */
  get cancelled(): boolean {
    return this.#reason !== undefined;
  }

  /** Aborts `signal` (now, or when it is first read). */
  cancel(): void {
    this.#reason = new AbortError('the caller aborted the job');
    this.#controller?.abort(this.#reason);
  }
}

/**
 * Broadcasts inside a thread (`pool.broadcast`): each one runs in its place in the order of
 * receipt, and no job received after it starts until it has settled, so a broadcast that
 * changes a setting holds for every job sent after it. A broadcast takes no sequence number
 * (the crash counters in `BootData.progress` count jobs only) and is never given back by a
 * steal. A thread asked to close runs the broadcasts it holds before its `cleanup()`.
 *
 * @module
 */
import type { Transferable } from 'node:worker_threads';
import type { BroadcastMessage, FromWorker, Outlet } from '../src/protocol/messages.js';
import { cloneFailure, toWire } from '../src/protocol/wire-error.js';
import { isTransfer } from '../src/protocol/codec.js';
import { JobContext } from './context.js';
import type { TaskFn } from './modules.js';

/** A job received by the runtime and not yet started. */
export interface Pending {
  /** Order of receipt, 1-based: the pool's sequence number for the job. */
  seq: number;
  id: number;
  task: number;
  input: unknown;
  tries: number;
  flags: number;
  /** A broadcast queued among the jobs; seq, id, task, input unused. */
  broadcast?: BroadcastMessage;
}

/** One thread's broadcasts: how many it holds, whether one runs, who waits for them. */
export class Broadcasts {
  readonly #port: Outlet;
  /** The pool's `workerData`, for the broadcast's context. */
  readonly #workerData: unknown;
  /** Broadcasts received and not yet settled (queued or running). */
  #held = 0;
  /** Whether one is running: jobs after it wait. */
  #running = false;
  /** Called once {@link #held} drops to 0. */
  #onSettled: (() => void)[] = [];

  constructor(port: Outlet, workerData: unknown) {
    this.#port = port;
    this.#workerData = workerData;
  }

  /** A broadcast arrived: the entry the runtime queues among its jobs (no sequence number). */
  received(message: BroadcastMessage): Pending {
    this.#held++;
    return { seq: 0, id: 0, task: 0, input: undefined, tries: 0, flags: 0, broadcast: message };
  }

  /** Whether a broadcast runs now (no job may start). */
  broadcasting(): boolean {
    return this.#running;
  }

  /** Resolves once every broadcast received has settled (at once if none is held). */
  settled(): Promise<void> {
    if (this.#held === 0) return Promise.resolve();
    return new Promise((resolve) => this.#onSettled.push(resolve));
  }

  /** Runs a broadcast; `then` is called once it has settled and its outcome is posted. */
  run(message: BroadcastMessage, fn: TaskFn | undefined, then: () => void): void {
    this.#running = true;
    this.#post({ type: 'broadcast-started', id: message.id });
    const ctx = new JobContext(0, 1, undefined, this.#workerData);
    // Settles asynchronously even when `fn` throws at once: `then` re-enters the runtime's pump.
    new Promise((resolve) => {
      if (fn === undefined) throw new Error(`corral: no task at index ${message.task}`);
      resolve(fn(message.input, ctx));
    }).then(
      (value) => {
        this.#settle(message.id, true, value, then);
      },
      (error: unknown) => {
        this.#settle(message.id, false, error, then);
      },
    );
  }

  #settle(id: number, ok: boolean, value: unknown, then: () => void): void {
    let transfer: Transferable[] | undefined;
    if (ok && isTransfer(value)) {
      transfer = [...value.list];
      value = value.value;
    }
    try {
      this.#post({ type: 'broadcast-result', id, ok, value: ok ? value : toWire(value) }, transfer);
    } catch (error) {
      this.#post({ type: 'broadcast-result', id, ok: false, value: cloneFailure(error) });
    }
    this.#running = false;
    if (--this.#held === 0) {
      const waiting = this.#onSettled;
      this.#onSettled = [];
      for (const resolve of waiting) resolve();
    }
    then();
  }

  #post(message: FromWorker, transfer?: Transferable[]): void {
    this.#port.postMessage(message, transfer);
  }
}

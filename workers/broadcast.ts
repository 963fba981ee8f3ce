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
import { workerData } from 'node:worker_threads';
import type { BootData, BroadcastMessage, FromWorker } from '../src/protocol/messages.js';
import { cloneFailure, toWire } from '../src/protocol/wire-error.js';
import { isTransfer } from '../src/protocol/codec.js';
import { JobContext } from './context.js';
import type { TaskFn } from './modules.js';

const boot = workerData as BootData;

/** Broadcasts received and not yet settled (queued or running). */
let held = 0;
/** Whether one is running: jobs after it wait. */
let running = false;
/** Called once {@link held} drops to 0. */
let onSettled: (() => void)[] = [];

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

/** A broadcast arrived: the entry the runtime queues among its jobs (no sequence number). */
export function received(message: BroadcastMessage): Pending {
  held++;
  return { seq: 0, id: 0, task: 0, input: undefined, tries: 0, flags: 0, broadcast: message };
}

/** Whether a broadcast runs now (no job may start). */
export function broadcasting(): boolean {
  return running;
}

/** Resolves once every broadcast received has settled (at once if none is held). */
export function broadcastsSettled(): Promise<void> {
  if (held === 0) return Promise.resolve();
  return new Promise((resolve) => onSettled.push(resolve));
}

/** Runs a broadcast; `then` is called once it has settled and its outcome is posted. */
export function runBroadcast(
  message: BroadcastMessage,
  fn: TaskFn | undefined,
  then: () => void,
): void {
  running = true;
  post({ type: 'broadcast-started', id: message.id });
  const ctx = new JobContext(0, 1, false, boot.workerData);
  // Settles asynchronously even when `fn` throws at once: `then` re-enters the runtime's pump.
  new Promise((resolve) => {
    if (fn === undefined) throw new Error(`corral: no task at index ${message.task}`);
    resolve(fn(message.input, ctx));
  }).then(
    (value) => {
      settle(message.id, true, value, then);
    },
    (error: unknown) => {
      settle(message.id, false, error, then);
    },
  );
}

function settle(id: number, ok: boolean, value: unknown, then: () => void): void {
  let transfer: Transferable[] | undefined;
  if (ok && isTransfer(value)) {
    transfer = [...value.list];
    value = value.value;
  }
  try {
    post({ type: 'broadcast-result', id, ok, value: ok ? value : toWire(value) }, transfer);
  } catch (error) {
    post({ type: 'broadcast-result', id, ok: false, value: cloneFailure(error) });
  }
  running = false;
  if (--held === 0) {
    const waiting = onSettled;
    onSettled = [];
    for (const resolve of waiting) resolve();
  }
  then();
}

function post(message: FromWorker, transfer?: Transferable[]): void {
  boot.port.postMessage(message, transfer);
}

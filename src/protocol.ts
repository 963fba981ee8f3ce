/**
 * The wire protocol between the pool (main thread) and a worker thread.
 * Shared by both sides; each side switches exhaustively on `type` and fails loudly
 * on anything else. Payloads stay `unknown` until the receiving side checks them.
 *
 * Jobs and results travel in batches as flat arrays (a fixed stride per entry):
 * cloning one array of primitives is much cheaper than cloning an array of objects.
 */
import type { MessagePort } from 'node:worker_threads';
import type { WireError } from './wire-error.js';

/** Flags carried with each job. */
export const JobFlag = {
  /** The caller listens for progress: the worker posts `progress` messages. */
  Progress: 1,
  /** The job has a timeout: the worker posts `started` so the pool starts its clock. */
  Timed: 2,
} as const;

/** Entries per job in {@link RunMessage.batch}: id, task index, input, tries << 2 | flags. */
export const RUN_STRIDE = 4;
/** Entries per result in {@link ResultsMessage.batch}: id, status, value or error. */
export const RESULT_STRIDE = 3;

/** Status of one result in a {@link ResultsMessage}. */
export const ResultStatus = {
  Ok: 0,
  Error: 1,
  /** Dropped by the worker before it started, because the pool cancelled it. */
  Dropped: 2,
} as const;
export type ResultStatus = (typeof ResultStatus)[keyof typeof ResultStatus];

/** Why the pool cancels a job. */
export type CancelReason = 'abort' | 'timeout';

// ---------------------------------------------------------------- main -> worker

/** Run these jobs, in order. */
export interface RunMessage {
  type: 'run';
  batch: unknown[];
}

/** Stop a job: drop it if it has not started, abort its `ctx.signal` if it has. */
export interface CancelMessage {
  type: 'cancel';
  id: number;
  reason: CancelReason;
}

/** The thread is being retired: run `cleanup()`, answer `closed`. Sent only when idle. */
export interface CloseMessage {
  type: 'close';
}

export type ToWorker = RunMessage | CancelMessage | CloseMessage;

// ---------------------------------------------------------------- worker -> main

/** The module loaded and `init()` returned: the thread takes jobs. */
export interface ReadyMessage {
  type: 'ready';
  /** Exported task names; jobs name a task by its index here. */
  tasks: string[];
}

/** The module failed to load, or `init()` threw. The thread will not take jobs. */
export interface StartFailedMessage {
  type: 'start-failed';
  stage: 'load' | 'init';
  error: WireError;
}

/** A batch of settled jobs. */
export interface ResultsMessage {
  type: 'results';
  batch: unknown[];
  /** Milliseconds the worker spent running this batch's jobs: sizes future batches. */
  busy: number;
}

/** A timed job started running. */
export interface StartedMessage {
  type: 'started';
  id: number;
}

/** A job reported progress through `ctx.progress(value)`. */
export interface ProgressMessage {
  type: 'progress';
  id: number;
  value: unknown;
}

/** `cleanup()` has run; the thread may be terminated. */
export interface ClosedMessage {
  type: 'closed';
  error?: WireError;
}

export type FromWorker =
  | ReadyMessage
  | StartFailedMessage
  | ResultsMessage
  | StartedMessage
  | ProgressMessage
  | ClosedMessage;

// ---------------------------------------------------------------- boot

/** What a worker thread receives as `workerData`. */
export interface BootData {
  /** `file:` URL of the task module. */
  module: string;
  /** The port jobs and results travel on. */
  port: MessagePort;
  /**
   * Shared progress counter: index 0 holds how many received jobs the thread has
   * consumed (started or dropped). After a crash it tells started jobs from bystanders.
   */
  consumed: Int32Array;
  /** Jobs one thread runs at once. */
  concurrency: number;
  /** The pool's `workerData` option, for the task module. */
  workerData: unknown;
}

/** Packs tries and flags into one number for the wire. */
export function packMeta(tries: number, flags: number): number {
  return tries * 4 + flags;
}

/** Unpacks what {@link packMeta} packed. */
export function unpackMeta(meta: number): { tries: number; flags: number } {
  return { tries: Math.floor(meta / 4), flags: meta & 3 };
}

/** Thrown by either side on a message it does not know: a bug, never user error. */
export function unknownMessage(message: never): never {
  throw new Error(`corral: unknown message on the wire: ${JSON.stringify(message)}`);
}

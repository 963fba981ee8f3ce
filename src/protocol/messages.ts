/**
 * The wire protocol between the pool (main thread) and a worker thread.
 * Shared by both sides; each side switches exhaustively on `type` and fails loudly
 * on anything else. Payloads stay `unknown` until the receiving side checks them.
 *
 * Jobs and results travel in batches as flat arrays: their layout is in `codec.ts`.
 */
import type { MessagePort, Transferable } from 'node:worker_threads';
import { InternalError } from '../util/errors.js';
import type { WireError } from './wire-error.js';

/** Slots of {@link BootData.progress}. */
export const STARTED = 0;
export const FINISHED = 1;
export const CANCELS = 2;
/** Bytes of {@link BootData.progress}. */
export const PROGRESS_BYTES = 12;

// ---------------------------------------------------------------- main -> worker

/** Run these jobs, in order. */
export interface RunMessage {
  type: 'run';
  batch: unknown[];
}

/**
 * Stop a job: drop it if it has not started, abort its `ctx.signal` if it has. The pool
 * counts each one in {@link CANCELS} right after posting it, so that a thread too busy to
 * read its port still sees it before it starts another job.
 */
export interface CancelMessage {
  type: 'cancel';
  id: number;
}

/**
 * Give back up to `count` jobs that have not started, newest first (they come back
 * as `Dropped` results): another thread has gone idle while this one has a backlog.
 */
export interface StealMessage {
  type: 'steal';
  count: number;
}

/** The thread is being retired: run `cleanup()`, answer `closed`. Sent only when idle. */
export interface CloseMessage {
  type: 'close';
}

/** The answer to an {@link AcquireMessage}: a lease id, or the error the request failed with. */
export interface LeaseMessage {
  type: 'lease';
  req: number;
  id: number;
  error?: WireError;
}

/** A key got a slot in the shared counters (and, if the table grew, its new buffer). */
export interface KeyMessage {
  type: 'key';
  key: string;
  slot: number;
  counters?: Int32Array;
}

/**
 * Run task `task` once on this thread with `input` (`pool.broadcast`). It starts in its
 * place in the order of receipt, and no job received after it starts before it settles.
 * It takes no sequence number: the crash counters count jobs only.
 */
export interface BroadcastMessage {
  type: 'broadcast';
  id: number;
  task: number;
  input: unknown;
}

export type ToWorker =
  | RunMessage
  | CancelMessage
  | StealMessage
  | CloseMessage
  | LeaseMessage
  | KeyMessage
  | BroadcastMessage;

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
  /** In a pool of several modules (`modules`), the name of the one that failed. */
  module?: string;
}

/** A batch of settled jobs. */
export interface ResultsMessage {
  type: 'results';
  batch: unknown[];
  /** Milliseconds the worker spent running this batch's jobs: sizes future batches. */
  busy: number;
  /** Bytes the thread had written to stdout and stderr when it sent this (see `workers/stdio.ts`). */
  stdio?: number;
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
  /** Bytes the thread had written to stdout and stderr (see `workers/stdio.ts`). */
  stdio?: number;
}

/** A task asked for a lease on a key (`acquire` in `corral/worker`). */
export interface AcquireMessage {
  type: 'acquire';
  req: number;
  key: string;
}

/** The task gave up waiting for request `req` (its signal aborted). */
export interface WithdrawMessage {
  type: 'withdraw';
  req: number;
}

/** A task released lease `id`. */
export interface ReleaseMessage {
  type: 'release';
  id: number;
}

/** A broadcast started running: a crash from now on is its doing. */
export interface BroadcastStartedMessage {
  type: 'broadcast-started';
  id: number;
}

/** A broadcast settled on this thread: its value, or the error it threw. */
export interface BroadcastResultMessage {
  type: 'broadcast-result';
  id: number;
  ok: boolean;
  /** The value when `ok`, a {@link WireError} when not. */
  value: unknown;
}

/**
 * The thread is past a `recycle` limit: it starts no job from now on. It has given back
 * (or is about to give back, in the results that follow) every job it holds and has not
 * started, as `Dropped`, and answers so any job sent to it from now on; it finishes the
 * jobs it runs. Sent before those results, so the pool sends it nothing more.
 */
export interface RecycleMessage {
  type: 'recycle';
  /** Which limit: `afterJobs` or `heapAbove`. */
  reason: 'jobs' | 'heap';
  /** The thread's used heap when it decided (bytes). */
  heap: number;
}

export type FromWorker =
  | RecycleMessage
  | BroadcastStartedMessage
  | BroadcastResultMessage
  | AcquireMessage
  | WithdrawMessage
  | ReleaseMessage
  | ReadyMessage
  | StartFailedMessage
  | ResultsMessage
  | StartedMessage
  | ProgressMessage
  | ClosedMessage;

/**
 * Where a worker's messages to the pool go: its port in a thread; in a child process, the
 * frame pipe (`process-frames.ts`), which copies what a transfer list would move.
 */
export interface Outlet {
  postMessage(message: FromWorker, transfer?: readonly Transferable[]): void;
}

// ---------------------------------------------------------------- boot

/** What a worker thread receives as `workerData`. */
export interface BootData {
  /** `file:` URL of the task module (the first of {@link BootData.modules} when there are several). */
  module: string;
  /**
   * A pool of several modules: `[name, file: URL]` in the order given. The thread loads them
   * all, runs their `init()`s in that order, and names their tasks `name:task`.
   */
  modules?: [string, string][];
  /** The port jobs and results travel on. */
  port: MessagePort;
  /**
   * Shared counters. Index 0 ({@link STARTED}), written by the thread: the sequence number
   * (1-based order of receipt) of the last job it started (or was about to start: it stores
   * this, then checks for cancels); jobs start in order of receipt, so later ones never
   * ran. Index 1 ({@link FINISHED}), written by the thread: every job up to this sequence
   * number has finished (its result may not have reached the pool). Index 2
   * ({@link CANCELS}), written by the pool: `cancel` and `steal` messages posted so far. The thread
   * stores STARTED before it loads CANCELS, the pool adds to CANCELS before it loads
   * STARTED (all sequentially consistent), so for every cancelled job either the pool
   * sees it started or the thread sees the cancel before starting it.
   */
  progress: Int32Array;
  /** Jobs one thread runs at once. */
  concurrency: number;
  /** The pool's `workerData` option, for the task module. */
  workerData: unknown;
  /** The keyed targets' shared counters, and the keys known so far with their slots. */
  keyCounters: Int32Array;
  keySlots: [string, number][];
  /** The pool's `recycle` limits (Infinity where none): the thread checks them itself. */
  recycle?: { afterJobs: number; heapAbove: number };
}

/** Thrown by either side on a message it does not know: a bug, never user error. */
export function unknownMessage(message: never): never {
  throw new InternalError(`unknown message on the wire: ${JSON.stringify(message)}`);
}

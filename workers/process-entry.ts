/**
 * What boots inside each worker process (`isolation: 'process'`; the pool forks this file):
 * the same {@link WorkerRuntime} as a thread's, over a `MessageChannel` inside this process.
 * What the pool sends comes by IPC and is put into the channel; what the runtime says goes
 * out at once, synchronously, as frames on fd 3 (`src/protocol/process-frames.ts`), and so
 * do the crash counters each time they move: a signal that kills this process loses none
 * of it, and the pool triages its jobs as it would a thread's.
 */
import { readSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { CANCELS, FINISHED, PROGRESS_BYTES, STARTED } from '../src/protocol/messages.js';
import type { FromWorker, Outlet } from '../src/protocol/messages.js';
import {
  FrameReader,
  MARK_BYTES,
  markFrame,
  messageFrame,
  type ControlFrame,
  type FromChild,
  type ToChild,
} from '../src/protocol/process-frames.js';
import { toWire } from '../src/protocol/wire-error.js';
import { serveLeases } from './leases.js';
import { countStdio } from './stdio.js';
import { watchParent } from './parent-watch.js';
import { isFailure, loadTasks, startFailed, unsettledStart } from './modules.js';
import { WorkerRuntime } from './worker-runtime.js';

/** The pipe the pool reads this process's frames from. */
const PIPE = 3;
/** The pipe the pool writes cancels and steals to (see `ControlFrame`). */
const CONTROL = 4;
/**
 * Opened as a socket only so that libuv makes it non-blocking (it never reads it): then
 * `readSync` returns what has come, or EAGAIN, and never waits. Kept referenced here, as
 * its collection would close the pipe.
 */
const control = new Socket({ fd: CONTROL, readable: false, writable: false });
control.unref();
control.on('error', () => undefined); // the pool's end closed: it is gone
const controlBytes = Buffer.allocUnsafe(64 * 1024);

/** Writes all of `frame` to the pipe before returning (the pipe is blocking). */
function write(frame: Buffer): void {
  let at = 0;
  while (at < frame.length) {
    try {
      at += writeSync(PIPE, frame, at);
    } catch (error) {
      // The pool closed its end (it is gone, or killing us): nothing more can be said.
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      if ((error as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0);
      throw error;
    }
  }
}

function send(message: FromChild): void {
  write(messageFrame(message));
}

/** The runtime's way out: messages as frames, transfer lists copied. */
const out: Outlet = {
  postMessage(message: FromWorker): void {
    send(message);
  },
};

const progress = new Int32Array(new SharedArrayBuffer(PROGRESS_BYTES));
const mark = Buffer.alloc(MARK_BYTES);
let sentStarted = 0;

/** The channel's end the runtime does not hold: what the pool sends is put in here. */
let inbox: MessagePort | undefined;
/** The last cancel or steal applied (see `ControlFrame`). */
let controls = 0;

/** Applies a cancel or a steal, once, whichever way it came first. */
function applyControl(frame: ControlFrame): void {
  if (frame.seq <= controls || inbox === undefined) return;
  controls = frame.seq;
  inbox.postMessage(frame.message);
  // Posted, then counted, as the pool does for a thread (see `BootData.progress`).
  Atomics.add(progress, CANCELS, 1);
}

const controlReader = new FrameReader<ControlFrame>(applyControl);

/** Takes every cancel and steal the pool has written to fd 4, without waiting. */
function takeControls(): void {
  for (;;) {
    let n: number;
    try {
      n = readSync(CONTROL, controlBytes);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return;
      throw error;
    }
    if (n === 0) return; // the pool closed it
    controlReader.push(controlBytes.subarray(0, n));
  }
}

/**
 * Sends the crash counters when a job is about to start (STARTED moved), having first taken
 * the cancels and steals waiting on fd 4, as a thread would see them in shared memory.
 * FINISHED alone is not worth a write: here each outcome is written before FINISHED moves
 * past its job, so the pool has the result of any job FINISHED could tell it finished.
 */
function sendMarks(): void {
  const started = Atomics.load(progress, STARTED);
  if (started === sentStarted) return;
  const finished = Atomics.load(progress, FINISHED);
  takeControls();
  sentStarted = started;
  write(markFrame(mark, started, finished));
}

let runtime: WorkerRuntime | undefined;
/** The keyed targets' counters as last sent by the pool (a copy: see `CountsFrame`). */
let counters: Int32Array | undefined;

async function boot(message: ToChild): Promise<void> {
  if (message.type !== 'boot') return;
  const { port1, port2 } = new MessageChannel();
  inbox = port2;
  const data = message.boot;
  counters = data.keyCounters;
  runtime = new WorkerRuntime({ ...data, port: port1, progress, out, mark: sendMarks });
  serveLeases(runtime.leases);
  process.off('message', onBoot);
  process.on('message', (m: ToChild) => {
    switch (m.type) {
      case 'counts':
        counters?.set(m.values.subarray(0, counters.length));
        return;
      case 'boot':
        return;
      case 'control':
        takeControls(); // those before it, and it (fd 4 stays drained)
        applyControl(m);
        return;
      case 'key':
        // Not through the channel, which would copy the counters the `counts` frames update.
        if (m.counters !== undefined) counters = m.counters;
        runtime?.leases.onKey(m);
        return;
      default:
        break;
    }
    port2.postMessage(m);
  });
  countStdio();
  // As in a thread, whose port is unreferenced while it starts: an init() that leaves nothing
  // to wait on must empty the event loop ('beforeExit' below), not wait on the pool forever.
  process.channel?.unref();
  const loaded = await loadTasks({ ...data, port: port1, progress });
  process.channel?.ref();
  if (isFailure(loaded)) {
    runtime.post(startFailed(loaded));
    return;
  }
  runtime.start(loaded);
}

function onBoot(message: ToChild): void {
  void boot(message);
}
process.on('message', onBoot);

// Results finished so far go before the process dies; then the error, as a thread's would.
process.on('uncaughtException', (error) => {
  runtime?.sendFinished();
  send({ type: 'uncaught', error: toWire(error) });
  process.exit(1);
});
process.on('exit', () => {
  runtime?.sendFinished();
});
process.on('beforeExit', () => {
  const unsettled = unsettledStart();
  if (unsettled !== undefined) runtime?.post(unsettled);
});
// The pool is gone (its IPC channel closed): so is the reason to live.
process.on('disconnect', () => {
  process.exit(0);
});
watchParent();

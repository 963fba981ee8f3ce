/**
 * What boots inside each worker thread: loads the task module, runs `init`, then
 * runs the jobs the pool sends over its port and sends results back in batches.
 */
import { performance } from 'node:perf_hooks';
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import {
  CANCELS,
  FINISHED,
  STARTED,
  unknownMessage,
  type BootData,
  type ToWorker,
} from '../src/protocol/messages.js';
import { JobFlag, ResultStatus, readJobs } from '../src/protocol/codec.js';
import { toWire } from '../src/protocol/wire-error.js';
import { JobContext } from './context.js';
import { onKey, onLease } from './leases.js';
import { countStdio, stdioWritten } from './stdio.js';
import { isFailure, loadTasks, startFailed, type TaskFn } from './modules.js';
import {
  broadcasting,
  broadcastsSettled,
  received as broadcastReceived,
  runBroadcast,
} from './broadcast.js';
import type { Pending } from './broadcast.js';
import { addBusy, answer, finish, flush, held, post } from './outbox.js';
import { Chunk, type ChunkHost } from './chunk.js';
import { runTraced } from './trace.js';

/**
 * Results are flushed once a batch has run this long (ms), and before a job expected to
 * take this long (or of unknown cost) starts, so a slow job never holds back fast ones.
 */
const FLUSH_AFTER_MS = 1;
/** How long an idle thread polls for its next job before it sleeps (ms). */
const SPIN_MS = 0.05;
/**
 * ...or once this many jobs' results wait (a chunk's inputs count one each): the pool
 * works through them while this thread goes on.
 */
const FLUSH_AFTER_RESULTS = 256;

const boot = workerData as BootData;
const port = boot.port;

/** Tasks by the index the pool names them with. */
const fns: TaskFn[] = [];
/** Jobs received, in order, not yet started. */
const pending: Pending[] = [];
let pendingHead = 0;
/** Running jobs by id (their contexts, for cancellation). */
const running = new Map<number, JobContext>();
/** Jobs received so far: the next one's sequence number minus one. */
let received = 0;
/** When the current results batch started collecting. */
let batchStart = 0;
let closing = false;
/** `cancel` messages taken so far (wraps like the shared counter it is compared with). */
let cancels = 0;
/** Running jobs that were cancelled: while any runs, results are sent at once. */
let cancelledRunning = 0;
/** Moving average of each task's run time (ms), by task index; unknown until it ran here. */
const cost: number[] = [];

function settle(ctx: JobContext, task: number, ok: boolean, value: unknown, started: number): void {
  running.delete(ctx.id);
  ran(task, started);
  finish(ctx.id, ok, value);
  finished(ctx.seq);
  // The pool may be about to terminate this thread for the cancelled job: nothing may wait here.
  if (ctx.cancelled) cancelledRunning--;
  if (ctx.cancelled || cancelledRunning > 0) flush();
}

/**
 * Counts a run of `task` that began at `started` into the busy time and the task's cost
 * (per job: a chunk's `count` inputs count as that many jobs).
 */
function ran(task: number, started: number, count = 1): void {
  const ms = performance.now() - started;
  addBusy(ms);
  const each = ms / count;
  const was = cost[task];
  cost[task] = was === undefined ? each : was + (each - was) / 4;
}

/**
 * Whether the results held must go before a job of `task` starts: it may take long (so
 * they would wait for it), or a cancelled job runs (so the thread may be terminated).
 */
function flushFirst(task: number): boolean {
  return cancelledRunning > 0 || !((cost[task] ?? FLUSH_AFTER_MS) < FLUSH_AFTER_MS);
}

/** Takes every message waiting in the port now (cancels among them). */
function takeMessages(): void {
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    onMessage(m.message as ToWorker);
  }
}

/** Moves the finished watermark once nothing started before `seq` is still running. */
function finished(seq: number): void {
  if (running.size === 0) Atomics.store(boot.progress, FINISHED, Math.max(seq, lastStartedSeq()));
}

function lastStartedSeq(): number {
  return Atomics.load(boot.progress, STARTED);
}

/** Starts queued jobs while there is room; returns when all started jobs are sync-done or awaiting. */
function pump(): void {
  for (;;) {
    if (pendingHead === pending.length) {
      // Take what has arrived meanwhile without a trip through the event loop.
      const next = receiveMessageOnPort(port);
      if (next !== undefined) {
        onMessage(next.message as ToWorker);
        continue;
      }
      // Idle: send the results, then wait a moment for the next job before going to sleep.
      if (running.size > 0 || closing) break;
      flush();
      if (!spin()) break;
      continue;
    }
    if (running.size >= boot.concurrency || broadcasting()) break;
    const job = pending[pendingHead] as Pending;
    // ---- hook (broadcast): it starts in its place; later jobs wait for it (broadcasting()).
    if (job.broadcast !== undefined) {
      shiftPending();
      flush();
      runBroadcast(job.broadcast, fns[job.broadcast.task], pump);
      continue;
    }
    // Claim the job, then look for cancels the pool counted (in this order: see
    // BootData.progress). A cancel that is counted is already in the port.
    Atomics.store(boot.progress, STARTED, job.seq);
    if (Atomics.load(boot.progress, CANCELS) !== cancels) {
      takeMessages();
      if (pending[pendingHead] !== job) {
        // Cancelled (answered Dropped) or given back by a steal: it never starts.
        finished(job.seq);
        continue;
      }
    }
    shiftPending();
    if (held() > 0 && flushFirst(job.task)) {
      flush();
      batchStart = performance.now();
    }
    run(job);
    if (held() >= FLUSH_AFTER_RESULTS || performance.now() - batchStart >= FLUSH_AFTER_MS) {
      flush();
      batchStart = performance.now();
    }
  }
  flush();
}

/** Takes the job at the head of the pending queue off it. */
function shiftPending(): void {
  pending[pendingHead++] = undefined as unknown as Pending;
  if (pendingHead === pending.length) {
    pending.length = 0;
    pendingHead = 0;
  }
}

/**
 * Polls the port for up to {@link SPIN_MS}. Waking a sleeping thread costs about 50 µs
 * on a round trip; a caller that answers a result with the next job usually does so
 * within this window, and then the thread never sleeps.
 */
function spin(): boolean {
  const end = performance.now() + SPIN_MS;
  do {
    const next = receiveMessageOnPort(port);
    if (next !== undefined) {
      onMessage(next.message as ToWorker);
      return true;
    }
  } while (performance.now() < end);
  return false;
}

function run(job: Pending): void {
  const { tries, flags } = job;
  if ((flags & JobFlag.Chunk) !== 0) {
    new Chunk(job, fns[job.task] as TaskFn, chunks).run();
    return;
  }
  const ctx = new JobContext(job.id, tries, (flags & JobFlag.Progress) !== 0, boot.workerData);
  if ((flags & JobFlag.Timed) !== 0) {
    // This job may be killed for its timeout: send what is done first, so nothing else is lost with it.
    flush();
    post({ type: 'started', id: job.id });
  }
  const started = performance.now();
  // The pool sends only indexes of the task list this thread reported in `ready`.
  const fn = fns[job.task] as TaskFn;
  let result: unknown;
  try {
    if ((flags & JobFlag.Traced) === 0) result = fn(job.input, ctx);
    else {
      const [traceparent, input] = job.input as [string, unknown];
      result = runTraced(traceparent, taskNames[job.task] ?? '', () => fn(input, ctx));
    }
  } catch (error) {
    ran(job.task, started);
    finish(job.id, false, error);
    finished(job.seq);
    return;
  }
  if (typeof (result as PromiseLike<unknown> | null)?.then !== 'function') {
    ran(job.task, started);
    finish(job.id, true, result);
    finished(job.seq);
    return;
  }
  running.set(job.id, ctx);
  ctx.seq = job.seq;
  Promise.resolve(result).then(
    (value) => {
      settle(ctx, job.task, true, value, started);
      pump();
    },
    (error: unknown) => {
      settle(ctx, job.task, false, error, started);
      pump();
    },
  );
}

const chunks: ChunkHost = {
  context(chunk) {
    const ctx = new JobContext(chunk.id, chunk.tries, false, boot.workerData);
    running.set(chunk.id, ctx);
    return ctx;
  },
  checkCancels() {
    if (Atomics.load(boot.progress, CANCELS) !== cancels) takeMessages();
  },
  ended(chunk) {
    running.delete(chunk.id);
    ran(chunk.task, chunk.started, Math.max(1, chunk.answered));
    finished(chunk.lastSeq);
    if (chunk.cancelled) {
      cancelledRunning--;
      flush();
    }
  },
  resume: pump,
};

/**
 * Drops a job that has not started, or aborts the signal of one that runs. Either way the
 * results held go out now: the pool gives a running cancelled job `abortGrace` before it
 * terminates the thread, and one that already finished may have its result here.
 */
function cancel(id: number): void {
  const ctx = running.get(id);
  if (ctx !== undefined) {
    if (!ctx.cancelled) cancelledRunning++;
    ctx.cancel();
    flush();
    return;
  }
  for (let i = pendingHead; i < pending.length; i++) {
    if (pending[i]?.id !== id) continue;
    pending.splice(i, 1);
    answer(id, ResultStatus.Dropped, undefined);
    break;
  }
  flush();
}

/** Gives back up to `count` unstarted jobs, newest first (broadcasts stay: hook). */
function steal(count: number): void {
  for (let i = pending.length - 1, n = 0; n < count && i >= pendingHead; i--) {
    const job = pending[i] as Pending;
    if (job.broadcast !== undefined) continue;
    pending.splice(i, 1);
    answer(job.id, ResultStatus.Dropped, undefined);
    n++;
  }
  flush();
}

async function close(): Promise<void> {
  closing = true;
  let error: unknown;
  try {
    await broadcastsSettled(); // hook (broadcast): those already received run first
    await cleanup?.();
  } catch (e) {
    error = e;
  }
  const stdio = stdioWritten();
  post(
    error === undefined
      ? { type: 'closed', stdio }
      : { type: 'closed', error: toWire(error), stdio },
  );
  port.close();
}

function receive(id: number, task: number, input: unknown, tries: number, flags: number): void {
  pending.push({ seq: received + 1, id, task, input, tries, flags });
  // A chunk's inputs take a sequence number each.
  received += (flags & JobFlag.Chunk) === 0 ? 1 : (input as unknown[]).length;
}

function onMessage(message: ToWorker): void {
  switch (message.type) {
    case 'run': {
      if (pendingHead === pending.length && held() === 0) batchStart = performance.now();
      readJobs(message.batch, receive);
      return;
    }
    case 'cancel':
      cancels = (cancels + 1) | 0;
      cancel(message.id);
      return;
    case 'steal':
      steal(message.count);
      return;
    case 'lease':
      onLease(message);
      return;
    case 'key':
      onKey(message);
      return;
    case 'close':
      if (!closing) void close();
      return;
    case 'broadcast': // hook (broadcast)
      if (pendingHead === pending.length && held() === 0) batchStart = performance.now();
      pending.push(broadcastReceived(message));
      return;
    default:
      unknownMessage(message);
  }
}

let cleanup: (() => unknown) | undefined;
/** The tasks' names, by index (for traced jobs' spans). */
let taskNames: readonly string[] = [];

async function start(): Promise<void> {
  countStdio();
  // ---- hook (modules): one module or several, see workers/modules.ts
  const loaded = await loadTasks(boot);
  if (isFailure(loaded)) {
    post(startFailed(loaded));
    return;
  }
  fns.push(...loaded.fns);
  taskNames = loaded.names;
  cleanup = loaded.cleanup;
  port.on('message', (message: ToWorker) => {
    onMessage(message);
    if (message.type === 'run' || message.type === 'cancel' || message.type === 'broadcast') pump();
  });
  post({ type: 'ready', tasks: loaded.names });
}

// Send finished results before the thread dies, so only the job that killed it is in doubt.
process.on('uncaughtException', (error) => {
  Chunk.sendParts();
  flush();
  throw error;
});
process.on('exit', () => {
  Chunk.sendParts();
  flush();
});

void start();

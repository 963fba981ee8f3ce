/**
 * One thread's runtime: runs the jobs the pool sends over the thread's port and sends
 * results back in batches. It is handed its port and its shared counters (what the thread's
 * `workerData` carries) and owns everything a thread holds: the jobs received and not yet
 * started, the contexts of those running, the results not yet sent, the broadcasts and the
 * leases. Only the thread's entry (`runtime.ts`) reads `workerData`; so the job loop runs as
 * well over a `MessageChannel` in one thread, which is how its tests drive it.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import {
  CANCELS,
  FINISHED,
  STARTED,
  unknownMessage,
  type BootData,
  type FromWorker,
  type Outlet,
  type ToWorker,
} from '../src/protocol/messages.js';
import { JobFlag, ResultStatus, readJobs } from '../src/protocol/codec.js';
import { toWire } from '../src/protocol/wire-error.js';
import { pollPort } from '../src/util/poll-port.js';
import { JobContext } from './context.js';
import { Leases } from './leases.js';
import { stdioWritten } from './stdio.js';
import type { LoadedTasks, TaskFn } from './modules.js';
import { Broadcasts, type Pending } from './broadcast.js';
import { ResultOutbox } from './result-outbox.js';
import { Chunk, type ChunkHost } from './chunk.js';
import { runTraced } from './trace.js';
import { RecycleWatch, heapUsed, type RecycleReason } from './recycle-watch.js';

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

/** What a runtime is given: the part of the thread's {@link BootData} that is not its modules. */
export type RuntimeBoot = Pick<
  BootData,
  'port' | 'progress' | 'concurrency' | 'workerData' | 'keyCounters' | 'keySlots' | 'recycle'
> & {
  /** Where messages to the pool go when not back over `port` (a child process's frame pipe). */
  out?: Outlet;
  /**
   * Called after each move of the STARTED or FINISHED counter, in a child process, whose
   * pool cannot read them: it writes them where the pool can (`workers/process-entry.ts`).
   * Given, it also makes each job's outcome go out as the job settles, not in batches.
   */
  mark?: () => void;
};

/**
 * One thread's runtime, handed its end of the port as comlink's `expose(obj, endpoint)` is:
 * nothing here reads `workerData`. The thread's entry (`runtime.ts`) makes the one a
 * thread has; a test makes one over a `MessageChannel`.
 *
 * @example
 * ```ts
 * const runtime = new WorkerRuntime(workerData as BootData);
 * serveLeases(runtime.leases); // before the task module loads: it may take leases
 * runtime.start(loadedTasks); // says `ready`, then runs what the port brings
 * ```
 */
export class WorkerRuntime {
  readonly #port: MessagePort;
  /** Where messages to the pool go: `#port`, or a child process's frame pipe. */
  readonly #out: Outlet;
  /** See {@link RuntimeBoot.mark}; undefined in a thread. */
  readonly #mark: (() => void) | undefined;
  /** The crash counters shared with the pool (`BootData.progress`). */
  readonly #progress: Int32Array;
  /** Jobs this thread runs at once. */
  readonly #concurrency: number;
  /** The pool's `workerData` option, for each job's context. */
  readonly #workerData: unknown;
  /** Results not yet sent. */
  readonly #outbox: ResultOutbox;
  readonly #broadcasts: Broadcasts;
  /** The leases tasks take through `acquire()`; the runtime hands them the pool's answers. */
  readonly leases: Leases;
  /** Tasks by the index the pool names them with. */
  readonly #fns: TaskFn[] = [];
  /** The tasks' names, by index (for traced jobs' spans). */
  #names: readonly string[] = [];
  /** Jobs received, in order, not yet started. */
  readonly #pending: Pending[] = [];
  #pendingHead = 0;
  /** Running jobs by id (their contexts, for cancellation). */
  readonly #running = new Map<number, JobContext>();
  /** Chunks running now: a thread about to die sends what they finished. */
  readonly #liveChunks = new Set<Chunk>();
  /** Jobs received so far: the next one's sequence number minus one. */
  #received = 0;
  /** When the current results batch started collecting. */
  #batchStart = 0;
  #closing = false;
  /** `cancel` messages taken so far (wraps like the shared counter it is compared with). */
  #cancels = 0;
  /** Running jobs that were cancelled: while any runs, results are sent at once. */
  #cancelledRunning = 0;
  /** Moving average of each task's run time (ms), by task index; unknown until it ran here. */
  readonly #cost: number[] = [];
  #cleanup: (() => unknown) | undefined;
  /** {@link #pump}, bound once: broadcasts and chunks call it when they resume the thread. */
  readonly #resume = (): void => {
    this.#pump();
  };
  /** What a chunk needs of this runtime. */
  readonly #chunks: ChunkHost;
  /** The pool's `recycle` limits, when it has some. */
  readonly #recycle: RecycleWatch | undefined;
  /** Past a `recycle` limit: no job starts here any more (see {@link #recycleNow}). */
  #recycling = false;

  constructor(boot: RuntimeBoot) {
    this.#port = boot.port;
    this.#out = boot.out ?? boot.port;
    this.#mark = boot.mark;
    this.#progress = boot.progress;
    this.#concurrency = boot.concurrency;
    this.#workerData = boot.workerData;
    this.#outbox = new ResultOutbox(this.#out, boot.mark !== undefined);
    this.#broadcasts = new Broadcasts(this.#out, boot.workerData);
    this.leases = new Leases(this.#out, boot.keyCounters, boot.keySlots);
    this.#chunks = this.#chunkHost();
    this.#recycle = boot.recycle === undefined ? undefined : new RecycleWatch(boot.recycle);
  }

  /** Posts a message to the pool. */
  post(message: FromWorker): void {
    this.#outbox.post(message);
  }

  /** Takes jobs for `tasks` from now on, and tells the pool the thread is ready. */
  start(tasks: LoadedTasks): void {
    this.#fns.push(...tasks.fns);
    this.#names = tasks.names;
    this.#cleanup = tasks.cleanup;
    this.#port.on('message', (message: ToWorker) => {
      this.#onMessage(message);
      if (message.type === 'run' || message.type === 'cancel' || message.type === 'broadcast') {
        this.#pump();
      }
    });
    this.post({ type: 'ready', tasks: tasks.names });
  }

  /**
   * Sends the results finished so far, what running chunks finished included: the thread is
   * about to die, and then only the job that killed it is in doubt.
   */
  sendFinished(): void {
    for (const chunk of this.#liveChunks) chunk.sendPart();
    this.#liveChunks.clear();
    this.#outbox.flush();
  }

  #settle(ctx: JobContext, task: number, ok: boolean, value: unknown, started: number): void {
    this.#running.delete(ctx.id);
    this.#ran(task, started);
    this.#outbox.finish(ctx.id, ok, value);
    this.#finished(ctx.seq);
    // The pool may be about to terminate this thread for the cancelled job: nothing may wait here.
    if (ctx.cancelled) this.#cancelledRunning--;
    if (ctx.cancelled || this.#cancelledRunning > 0) this.#outbox.flush();
  }

  /**
   * Counts a run of `task` that began at `started` into the busy time and the task's cost
   * (per job: a chunk's `count` inputs count as that many jobs).
   */
  #ran(task: number, started: number, count = 1): void {
    const ms = performance.now() - started;
    this.#outbox.addBusy(ms);
    const each = ms / count;
    const was = this.#cost[task];
    this.#cost[task] = was === undefined ? each : was + (each - was) / 4;
    if (this.#recycle !== undefined && !this.#recycling) {
      const reason = this.#recycle.finished();
      if (reason !== undefined) this.#recycleNow(reason);
    }
  }

  /**
   * Past a `recycle` limit: tells the pool (first, so it sends nothing more), then gives
   * back every job not started, newest first like a steal, so they reach the head of the
   * pool's queue in their order. Jobs that arrive later are given back as they come.
   */
  #recycleNow(reason: RecycleReason): void {
    this.#recycling = true;
    this.post({ type: 'recycle', reason, heap: heapUsed() });
    this.#steal(Infinity);
  }

  /**
   * Whether the results held must go before a job of `task` starts: it may take long (so
   * they would wait for it), or a cancelled job runs (so the thread may be terminated).
   */
  #flushFirst(task: number): boolean {
    return this.#cancelledRunning > 0 || !((this.#cost[task] ?? FLUSH_AFTER_MS) < FLUSH_AFTER_MS);
  }

  /** Takes every message waiting in the port now (cancels among them). */
  #takeMessages(): void {
    const port = this.#port;
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
      this.#onMessage(m.message as ToWorker);
    }
  }

  /** Moves the finished watermark once nothing started before `seq` is still running. */
  #finished(seq: number): void {
    if (this.#running.size === 0) {
      Atomics.store(this.#progress, FINISHED, Math.max(seq, this.#lastStartedSeq()));
      if (this.#mark !== undefined) this.#mark();
    }
  }

  #lastStartedSeq(): number {
    return Atomics.load(this.#progress, STARTED);
  }

  /** Starts queued jobs while there is room; returns when all started jobs are sync-done or awaiting. */
  #pump(): void {
    const pending = this.#pending;
    const outbox = this.#outbox;
    const progress = this.#progress;
    for (;;) {
      if (this.#pendingHead === pending.length) {
        // Take what has arrived meanwhile without a trip through the event loop.
        const next = receiveMessageOnPort(this.#port);
        if (next !== undefined) {
          this.#onMessage(next.message as ToWorker);
          continue;
        }
        // Idle: send the results, then wait a moment for the next job before going to sleep.
        if (this.#running.size > 0 || this.#closing) break;
        outbox.flush();
        if (!this.#spin()) break;
        continue;
      }
      if (this.#running.size >= this.#concurrency || this.#broadcasts.broadcasting()) break;
      const job = pending[this.#pendingHead] as Pending;
      // ---- hook (broadcast): it starts in its place; later jobs wait for it (broadcasting()).
      if (job.broadcast !== undefined) {
        this.#shiftPending();
        outbox.flush();
        this.#broadcasts.run(job.broadcast, this.#fns[job.broadcast.task], this.#resume);
        continue;
      }
      // ---- hook (recycle): a chunk that would pass `afterJobs` goes back with the rest.
      if (this.#recycle?.wouldPass(inputsOf(job)) === true) {
        this.#recycleNow('jobs');
        continue;
      }
      // Claim the job, then look for cancels the pool counted (in this order: see
      // BootData.progress). A cancel that is counted is already in the port.
      Atomics.store(progress, STARTED, job.seq);
      // A child process: the pool must know before the job runs (a crash may follow).
      if (this.#mark !== undefined) this.#mark();
      if (Atomics.load(progress, CANCELS) !== this.#cancels) {
        this.#takeMessages();
        if (pending[this.#pendingHead] !== job) {
          // Cancelled (answered Dropped) or given back by a steal: it never starts.
          this.#finished(job.seq);
          continue;
        }
      }
      this.#shiftPending();
      if (outbox.held() > 0 && this.#flushFirst(job.task)) {
        outbox.flush();
        this.#batchStart = performance.now();
      }
      // (A chunk's inputs are counted before it runs: it may take them over.)
      const inputs = this.#recycle === undefined ? 0 : inputsOf(job);
      this.#run(job);
      if (this.#recycle !== undefined && !this.#recycling) {
        const reason = this.#recycle.started(inputs);
        if (reason !== undefined) this.#recycleNow(reason);
      }
      if (
        outbox.held() >= FLUSH_AFTER_RESULTS ||
        performance.now() - this.#batchStart >= FLUSH_AFTER_MS
      ) {
        outbox.flush();
        this.#batchStart = performance.now();
      }
    }
    outbox.flush();
  }

  /** Takes the job at the head of the pending queue off it. */
  #shiftPending(): void {
    const pending = this.#pending;
    pending[this.#pendingHead++] = undefined as unknown as Pending;
    if (this.#pendingHead === pending.length) {
      pending.length = 0;
      this.#pendingHead = 0;
    }
  }

  /**
   * Polls the port for up to {@link SPIN_MS}. Waking a sleeping thread costs about 50 µs
   * on a round trip; a caller that answers a result with the next job usually does so
   * within this window, and then the thread never sleeps.
   */
  #spin(): boolean {
    const next = pollPort(this.#port, SPIN_MS);
    if (next === undefined) return false;
    this.#onMessage(next.message as ToWorker);
    return true;
  }

  #run(job: Pending): void {
    const { tries, flags } = job;
    if ((flags & JobFlag.Chunk) !== 0) {
      new Chunk(job, this.#fns[job.task] as TaskFn, this.#chunks).run();
      return;
    }
    const ctx = new JobContext(
      job.id,
      tries,
      (flags & JobFlag.Progress) !== 0 ? this.#out : undefined,
      this.#workerData,
    );
    if ((flags & JobFlag.Timed) !== 0) {
      // This job may be killed for its timeout: send what is done first, so nothing else is lost with it.
      this.#outbox.flush();
      this.post({ type: 'started', id: job.id });
    }
    const started = performance.now();
    // The pool sends only indexes of the task list this thread reported in `ready`.
    const fn = this.#fns[job.task] as TaskFn;
    let result: unknown;
    try {
      if ((flags & JobFlag.Traced) === 0) result = fn(job.input, ctx);
      else {
        const [traceparent, input] = job.input as [string, unknown];
        result = runTraced(traceparent, this.#names[job.task] ?? '', () => fn(input, ctx));
      }
    } catch (error) {
      this.#ran(job.task, started);
      this.#outbox.finish(job.id, false, error);
      this.#finished(job.seq);
      return;
    }
    if (typeof (result as PromiseLike<unknown> | null)?.then !== 'function') {
      this.#ran(job.task, started);
      this.#outbox.finish(job.id, true, result);
      this.#finished(job.seq);
      return;
    }
    this.#running.set(job.id, ctx);
    ctx.seq = job.seq;
    Promise.resolve(result).then(
      (value) => {
        this.#settle(ctx, job.task, true, value, started);
        this.#pump();
      },
      (error: unknown) => {
        this.#settle(ctx, job.task, false, error, started);
        this.#pump();
      },
    );
  }

  #chunkHost(): ChunkHost {
    return {
      progress: this.#progress,
      mark: this.#mark,
      outbox: this.#outbox,
      live: this.#liveChunks,
      context: (chunk) => {
        const ctx = new JobContext(chunk.id, chunk.tries, undefined, this.#workerData);
        this.#running.set(chunk.id, ctx);
        return ctx;
      },
      checkCancels: () => {
        if (Atomics.load(this.#progress, CANCELS) !== this.#cancels) this.#takeMessages();
      },
      ended: (chunk) => {
        this.#running.delete(chunk.id);
        this.#ran(chunk.task, chunk.started, Math.max(1, chunk.answered));
        this.#finished(chunk.lastSeq);
        if (chunk.cancelled) {
          this.#cancelledRunning--;
          this.#outbox.flush();
        }
      },
      resume: this.#resume,
    };
  }

  /**
   * Drops a job that has not started, or aborts the signal of one that runs. Either way the
   * results held go out now: the pool gives a running cancelled job `abortGrace` before it
   * terminates the thread, and one that already finished may have its result here.
   */
  #cancel(id: number): void {
    const ctx = this.#running.get(id);
    if (ctx !== undefined) {
      if (!ctx.cancelled) this.#cancelledRunning++;
      ctx.cancel();
      this.#outbox.flush();
      return;
    }
    const pending = this.#pending;
    for (let i = this.#pendingHead; i < pending.length; i++) {
      if (pending[i]?.id !== id) continue;
      pending.splice(i, 1);
      this.#outbox.answer(id, ResultStatus.Dropped, undefined);
      break;
    }
    this.#outbox.flush();
  }

  /** Gives back up to `count` unstarted jobs, newest first (broadcasts stay: hook). */
  #steal(count: number): void {
    const pending = this.#pending;
    for (let i = pending.length - 1, n = 0; n < count && i >= this.#pendingHead; i--) {
      const job = pending[i] as Pending;
      if (job.broadcast !== undefined) continue;
      pending.splice(i, 1);
      this.#outbox.answer(job.id, ResultStatus.Dropped, undefined);
      n++;
    }
    this.#outbox.flush();
  }

  async #close(): Promise<void> {
    this.#closing = true;
    let error: unknown;
    try {
      await this.#broadcasts.settled(); // hook (broadcast): those already received run first
      await this.#cleanup?.();
    } catch (e) {
      error = e;
    }
    const stdio = stdioWritten();
    this.post(
      error === undefined
        ? { type: 'closed', stdio }
        : { type: 'closed', error: toWire(error), stdio },
    );
    this.#port.close();
  }

  /** Queues a job of a `run` batch (the codec calls it for each one, so it is bound once). */
  readonly #receive = (
    id: number,
    task: number,
    input: unknown,
    tries: number,
    flags: number,
  ): void => {
    this.#pending.push({ seq: this.#received + 1, id, task, input, tries, flags });
    // A chunk's inputs take a sequence number each.
    this.#received += (flags & JobFlag.Chunk) === 0 ? 1 : (input as unknown[]).length;
  };

  #onMessage(message: ToWorker): void {
    switch (message.type) {
      case 'run': {
        if (this.#pendingHead === this.#pending.length && this.#outbox.held() === 0) {
          this.#batchStart = performance.now();
        }
        readJobs(message.batch, this.#receive);
        // Sent before the pool heard that this thread recycles: back they go.
        if (this.#recycling) this.#steal(Infinity);
        return;
      }
      case 'cancel':
        this.#cancels = (this.#cancels + 1) | 0;
        this.#cancel(message.id);
        return;
      case 'steal':
        this.#cancels = (this.#cancels + 1) | 0; // counted in CANCELS too (see ThreadHandle.steal)
        this.#steal(message.count);
        return;
      case 'lease':
        this.leases.onLease(message);
        return;
      case 'key':
        this.leases.onKey(message);
        return;
      case 'close':
        if (!this.#closing) void this.#close();
        return;
      case 'broadcast': // hook (broadcast)
        if (this.#pendingHead === this.#pending.length && this.#outbox.held() === 0) {
          this.#batchStart = performance.now();
        }
        this.#pending.push(this.#broadcasts.received(message));
        return;
      default:
        unknownMessage(message);
    }
  }
}

/** Inputs a job carries: 1, or a chunk's length. */
function inputsOf(job: Pending): number {
  return (job.flags & JobFlag.Chunk) === 0 ? 1 : (job.input as unknown[]).length;
}

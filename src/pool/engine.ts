/**
 * The pool's engine: the queue, the ready-queue of workers with room (`chan chan Job`),
 * dispatch, retries, crash recovery and the pool's lifecycle. The public `Pool` is a
 * thin facade over it.
 */
import { performance } from 'node:perf_hooks';
import { Keyed, type KeyCounts } from '../keyed/keyed.js';
import { checkKey } from '../keyed/key-table.js';
import type { Lease } from '../keyed/leases.js';
import { AbortError, DataCloneError, PoolClosedError } from '../util/errors.js';
import {
  JobTimeoutError,
  QueueFullError,
  StartupTimeoutError,
  UnknownTaskError,
  WorkerCrashedError,
  WorkerStartupError,
} from './errors.js';
import type { Job, JobOwner } from './job.js';
import type { ResolvedOptions } from './options.js';
import { RESULT_STRIDE, ResultStatus } from '../protocol/messages.js';
import { StatsRecorder, type PoolStats } from './stats.js';
import type { WorkerHandle, WorkerListener } from '../threads/thread.js';
import { ThreadSet } from '../threads/thread-set.js';
import { fromWire, type WireError } from '../protocol/wire-error.js';
import { Lifecycle } from './lifecycle.js';
import { Dispatcher, type DispatchHost } from './dispatcher.js';
import { GovernorGate } from '../governor/gate.js';
import { Broadcaster } from './broadcast.js'; // hook (broadcast)
import { refuseTask, startError } from './modules.js'; // hook (modules)

/** Events the pool emits, with their arguments. */
export interface PoolEvents {
  /** A thread loaded the module and ran `init()`. */
  threadStart: [info: { threadId: number }];
  /** A thread exited (after a crash too). */
  threadExit: [info: { threadId: number }];
  /** A thread died without being asked to; its jobs were retried or rejected. */
  threadCrash: [info: { threadId: number; error: unknown }];
  /** The queue emptied and no job is running. */
  drain: [];
  /** A sticky broadcast failed on a thread started after it (the thread goes on taking jobs). */
  broadcastFailed: [info: { threadId: number; task: string; error: unknown }];
}

export type Emit = <K extends keyof PoolEvents>(event: K, ...args: PoolEvents[K]) => void;

/** Threads dying before they are ready this many times in a row fail the pool. */
const MAX_START_FAILURES = 3;

export class Engine {
  readonly #options: ResolvedOptions;
  readonly #emit: Emit;
  readonly #life: Lifecycle;
  /** Cluster-wide keyed targets, when the pool has a governor. */
  readonly #gate: GovernorGate | undefined;
  /** Keyed targets: the key table, leases, and the queue (fair across keys). */
  readonly #keyed: Keyed;
  /** Jobs waiting for a thread; settled (aborted) ones are skipped when reached. */
  readonly #queue: Keyed['queue'];
  /** Jobs sent to a thread and not yet settled. */
  #inFlight = 0;
  /** The threads and the ready-queue of those with room. */
  readonly #threads: ThreadSet;
  /** Takes queued jobs to the threads with room. */
  readonly #dispatcher: Dispatcher;
  /** Task name -> index, once the first thread has reported the module's exports. */
  #tasks: Map<string, number> | undefined;
  #nextId = 1;
  /** Threads that died before becoming ready, in a row. */
  #startFailures = 0;
  /** Whether work arrived since the last 'drain'. */
  #busy = false;
  readonly stats = new StatsRecorder();
  /** `pool.broadcast` (hook: src/pool/broadcast.ts). */
  readonly broadcasts: Broadcaster = new Broadcaster({
    threads: () => this.#threads,
    refusal: () => this.#life.failure ?? (this.#life.accepting ? undefined : new PoolClosedError()),
    tasks: () => this.#tasks,
    ready: () => this.ready(),
    refuse: (task, tasks) =>
      refuseTask(this.#options, task, tasks) ?? new UnknownTaskError(task, [...tasks.keys()]),
    replayFailed: (threadId, task, error) => {
      this.#emit('broadcastFailed', { threadId, task, error });
    },
  });
  /** How threads report to the engine. */
  readonly #listener: WorkerListener = {
    ready: (w, tasks) => {
      this.#onReady(w, tasks);
    },
    startFailed: (w, stage, error, module) => {
      this.#onStartFailed(w, stage, error, module);
    },
    results: (w, batch, busy) => {
      this.#onResults(w, batch, busy);
    },
    started: (w, id) => {
      this.#onStarted(w, id);
    },
    progress: (w, id, value) => {
      this.#onProgress(w, id, value);
    },
    closed: (w) => {
      this.#onClosed(w);
    },
    exited: (w, error) => {
      this.#onExited(w, error);
    },
    acquire: (w, req, key) => {
      this.#keyed.threadAcquire(w, req, key);
    },
    withdraw: (w, req) => {
      this.#keyed.threadWithdraw(w, req);
    },
    release: (_w, id) => {
      this.#keyed.threadRelease(id);
    },
    broadcast: (w, message) => {
      this.broadcasts.onMessage(w, message); // hook (broadcast)
    },
  };

  constructor(options: ResolvedOptions, emit: Emit) {
    this.#options = options;
    this.#emit = emit;
    this.#keyed = new Keyed(
      options.defaultTarget,
      () => this.#threads,
      () => {
        this.#dispatcher.schedule();
      },
    );
    this.#queue = this.#keyed.queue;
    this.#gate = options.governor === undefined ? undefined : new GovernorGate(options.governor);
    this.#threads = new ThreadSet(
      options,
      this.#listener,
      () => ({
        counters: this.#keyed.table.counters,
        slots: this.#keyed.table.entries(),
      }),
      {
        startupTimedOut: (w) => {
          this.#startupTimedOut(w);
        },
        spawnFailed: (error) => {
          this.#fail(error);
        },
        spawned: (w) => {
          this.broadcasts.replay(w); // hook (broadcast)
        },
      },
    );
    this.#dispatcher = new Dispatcher(options, this.#queue, this.#threads, this.#dispatchHost);
    this.#life = new Lifecycle(
      () => this.#threads.size,
      () => this.#threads.starting() === 0,
    );
    this.#threads.replenish();
  }

  get state(): Lifecycle['state'] {
    return this.#life.state;
  }

  nextId(): number {
    return this.#nextId++;
  }

  /** The module's task names, once a thread has reported them. */
  tasks(): string[] | undefined {
    return this.#tasks === undefined ? undefined : [...this.#tasks.keys()];
  }

  /** Resolves once no thread is starting; rejects if the pool failed. */
  ready(): Promise<void> {
    return this.#life.whenReady();
  }

  /** Queues a job (or settles it at once: closed pool, unknown task, aborted, queue full). */
  submit(job: Job): void {
    const refusal = this.#refusal(job);
    if (refusal !== undefined) {
      job.settle(false, refusal);
      this.stats.failed++;
      return;
    }
    const signal = job.signal;
    if (signal !== undefined) {
      const onAbort = (): void => {
        this.#abort(job);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      job.unlisten = () => {
        signal.removeEventListener('abort', onAbort);
      };
    }
    if (job.key !== undefined) job.keyState = this.#keyed.table.get(job.key);
    this.#busy = true;
    const gated = this.#gate?.gate(
      job,
      () => {
        const failure = this.#life.failure;
        if (failure === undefined) this.#enqueue(job);
        else this.#settle(job, false, failure);
      },
      (error) => {
        if (!job.settled) this.#settle(job, false, error);
        this.#checkIdle();
      },
      (reason) => {
        this.#abort(job, reason);
      },
    );
    if (gated === true) job.state = 'waiting';
    else this.#enqueue(job);
  }

  #enqueue(job: Job): void {
    job.state = 'queued';
    if (sampled(job)) job.queuedAt = performance.now();
    this.#queue.add(job);
    this.#dispatcher.schedule();
  }

  // ------------------------------------------------------------- keyed targets

  setTarget(key: string, target: number): void {
    this.#keyed.setTarget(checkKey(key), target);
    if (target === 0 && this.#life.state === 'closing') this.#rejectPaused();
  }

  counts(key: string): KeyCounts {
    return this.#keyed.counts(checkKey(key));
  }

  acquire(key: string, signal: AbortSignal | undefined): Promise<Lease> {
    const failure = this.#life.failure;
    if (failure !== undefined) return Promise.reject(failure);
    if (!this.#life.accepting) return Promise.reject(new PoolClosedError());
    return this.#keyed.acquire(checkKey(key), signal);
  }

  /** Queued jobs of paused keys would wait forever once the pool is closing. */
  #rejectPaused(): void {
    for (const job of this.#keyed.pausedJobs()) {
      this.#settle(
        job,
        false,
        new PoolClosedError("the pool closed while the job's key was paused"),
      );
    }
  }

  #refusal(job: Job): Error | undefined {
    const failure = this.#life.failure;
    if (failure !== undefined) return failure;
    if (!this.#life.accepting) return new PoolClosedError();
    const unknown = refuseTask(this.#options, job.task, this.#tasks); // hook (modules)
    if (unknown !== undefined) return unknown;
    if (job.signal?.aborted === true) return new AbortError(job.signal.reason);
    if (job.queueFull === 'reject' && this.#wouldWait() > this.#options.maxQueue) {
      return new QueueFullError(this.#options.maxQueue);
    }
    return undefined;
  }

  /**
   * Jobs that would be waiting (not started) if one more job came now: the queue and the
   * jobs threads hold unstarted, less what the threads' free places can start at once.
   */
  #wouldWait(): number {
    const queued = this.#queue.length + 1;
    // At most this many: cheap, and enough unless the bound is near.
    if (queued + this.#inFlight <= this.#options.maxQueue) return queued + this.#inFlight;
    const concurrency = this.#options.concurrency;
    let parked = 0; // held unstarted where the thread has no free place for them
    let free = 0; // free places left for queued jobs
    for (const w of this.#threads) {
      const unstarted = w.prefetched();
      // Started jobs still held take a place (an aborted one that still runs included).
      const places = Math.max(0, concurrency - (w.load - unstarted));
      parked += Math.max(0, unstarted - places);
      if (w.state === 'ready' || w.state === 'starting') free += Math.max(0, places - unstarted);
    }
    return parked + Math.max(0, queued - free);
  }

  /** Jobs threads hold and have not started. */
  #prefetched(): number {
    let n = 0;
    for (const w of this.#threads) n += w.prefetched();
    return n;
  }

  /** Aborts an owner's jobs: the queued ones at once, the running ones through their signal. */
  cancelOwned(owner: JobOwner, reason: unknown, queuedOnly: boolean): void {
    const doomed: Job[] = [];
    this.#queue.forEach((job) => {
      if (job.owner === owner) doomed.push(job);
    });
    this.#gate?.forEachWaiting((job) => {
      if (job.owner === owner) doomed.push(job);
    });
    if (!queuedOnly) {
      for (const w of this.#threads) {
        for (const job of w.jobs.values())
          if (job.owner === owner && !job.settled) doomed.push(job);
      }
    }
    for (const job of doomed) this.#abort(job, reason);
  }

  snapshot(): PoolStats {
    const prefetched = Math.min(this.#prefetched(), this.#inFlight);
    const unstarted = this.#queue.length + prefetched;
    return this.stats.snapshot({
      threads: this.#threads.size,
      queued: Math.min(unstarted, this.#options.maxQueue),
      waiting: Math.max(0, unstarted - this.#options.maxQueue),
      running: this.#inFlight - prefetched,
    });
  }

  // ------------------------------------------------------------- settling

  /** Settles a job and keeps the counters right. Every outcome goes through here. */
  #settle(job: Job, ok: boolean, value: unknown): void {
    if (job.state === 'queued') this.#queue.removed(job);
    else if (job.state === 'sent') {
      this.#inFlight--;
      if (sampled(job)) this.stats.run(job.sentAt, performance.now());
    }
    if (!job.settle(ok, value)) return;
    this.#releaseSlot(job);
    if (ok) this.stats.completed++;
    else this.stats.failed++;
    this.#checkIdle();
  }

  /**
   * A job leaves a thread (answered, given back, or the thread is gone): the thread
   * forgets it, its key's unit comes back, and its governor slot too if it is done.
   */
  #leave(worker: WorkerHandle, job: Job): void {
    worker.release(job.id);
    this.#keyed.give(job);
    if (job.lingering === worker) job.lingering = undefined;
    this.#releaseSlot(job);
  }

  /** Frees the job's governor slot once it is settled and no thread holds it any more. */
  #releaseSlot(job: Job): void {
    if (job.slot === undefined || !job.settled || job.lingering !== undefined) return;
    if (job.holder !== undefined && job.holder.jobs.has(job.id)) return;
    this.#gate?.release(job);
  }

  /** Puts a sent job back at the head of the queue (a retry, or a bystander of a crash). */
  #requeue(job: Job, retry: boolean): void {
    if (retry) this.stats.retried++;
    this.#inFlight--;
    job.state = 'queued';
    job.holder = undefined;
    this.#queue.add(job, true);
  }

  #abort(job: Job, reason: unknown = job.signal?.reason): void {
    if (job.settled) return;
    if (job.state === 'waiting') this.#gate?.withdraw(job);
    const holder = job.holder;
    this.#settle(job, false, new AbortError(reason));
    if (holder === undefined) return;
    holder.cancel(job.id);
    // Read after the cancel was counted: a job not started by now never starts (the thread
    // checks the count before each job), so it leaves its thread at once, key unit and all.
    const phase = holder.phase(job);
    if (phase === 'unstarted') {
      holder.forget(job);
      this.#leave(holder, job);
      return;
    }
    if (phase === 'finished') return; // its result is on its way
    // The task may ignore its signal: past the grace period its thread is replaced.
    job.timer = setTimeout(() => {
      this.#graceOver(holder, job);
    }, this.#options.abortGrace);
  }

  /** An aborted job's grace is over: terminates its thread if the job still runs there. */
  #graceOver(holder: WorkerHandle, job: Job): void {
    job.timer = undefined;
    if (!holder.jobs.has(job.id)) return;
    // Its result (and others') may wait in the port while this thread was busy.
    holder.drain();
    if (!holder.jobs.has(job.id) || holder.phase(job) === 'finished') return;
    holder.terminate(
      new WorkerCrashedError(
        `terminated: an aborted job did not settle within abortGrace (${this.#options.abortGrace} ms)`,
      ),
    );
  }

  #checkIdle(): void {
    if (this.#queue.length > 0 || this.#inFlight > 0 || (this.#gate?.waiting ?? 0) > 0) return;
    if (this.#busy) {
      this.#busy = false;
      this.#emit('drain');
    }
    if (this.#life.state === 'closing') this.#threads.closeIdle();
  }

  // ------------------------------------------------------------- dispatch

  /** The dispatcher's view of the engine. */
  readonly #dispatchHost: DispatchHost = {
    tasks: () => this.#tasks,
    take: (job, worker, now, tasks) => {
      const unknown = refuseTask(this.#options, job.task, tasks); // hook (modules)
      if (unknown !== undefined) {
        // Already counted out of the queue by next(): settled here, not by #settle.
        this.#keyed.give(job);
        job.settle(false, unknown);
        this.stats.failed++;
        this.#releaseSlot(job);
        return false;
      }
      job.state = 'sent';
      job.holder = worker;
      if (sampled(job)) {
        job.sentAt = now;
        this.stats.wait(job.queuedAt, now);
      }
      this.#inFlight++;
      return true;
    },
    unsent: (job, error) => {
      job.holder = undefined;
      this.#keyed.give(job);
      this.#settle(job, false, new DataCloneError('input', { cause: error }));
    },
    inFlight: () => this.#inFlight,
    passed: () => {
      this.#checkIdle();
    },
  };

  // ------------------------------------------------------------- what threads say

  #onReady(worker: WorkerHandle, tasks: string[]): void {
    this.#startFailures = 0;
    this.#tasks ??= new Map(tasks.map((name, i) => [name, i]));
    this.#life.started();
    this.#emit('threadStart', { threadId: worker.threadId });
    if (this.#life.state === 'closed' || this.#life.failure !== undefined) {
      worker.terminate();
      return;
    }
    if (worker.state === 'retiring' || this.#threads.live() > this.#threads.target) {
      worker.close();
      return;
    }
    this.#life.checkReady();
    this.#threads.offer(worker);
    this.#dispatcher.run();
    if (this.#life.state === 'closing') this.#checkIdle();
  }

  #onStartFailed(
    _worker: WorkerHandle,
    stage: 'load' | 'init',
    wire: WireError,
    module: string | undefined,
  ): void {
    this.#fail(startError(this.#options, stage, module, fromWire(wire))); // hook (modules)
  }

  #onResults(worker: WorkerHandle, batch: unknown[], busy: number): void {
    let counted = 0;
    for (let i = 0; i < batch.length; i += RESULT_STRIDE) {
      const id = batch[i] as number;
      const job = worker.jobs.get(id);
      if (job === undefined) continue;
      const status = batch[i + 1] as ResultStatus;
      if (status === ResultStatus.Dropped) worker.forget(job);
      this.#leave(worker, job);
      // Given up on this thread (it overran its timeout and went on elsewhere): its timer
      // and its outcome belong to where it is now.
      if (job.holder !== worker) continue;
      if (job.timer !== undefined) clearTimeout(job.timer);
      job.timer = undefined;
      if (job.settled) continue;
      if (status === ResultStatus.Ok) {
        counted++;
        this.#settle(job, true, batch[i + 2]);
        continue;
      }
      if (status === ResultStatus.Dropped) {
        job.tries--; // it never ran: the attempt is given back
        job.stolen = false;
        this.#requeue(job, false);
        continue;
      }
      counted++;
      const wire = batch[i + 2] as WireError;
      if (wire.retry && job.tries < job.maxTries) this.#requeue(job, true);
      else this.#settle(job, false, fromWire(wire));
    }
    this.#dispatcher.observe(busy, counted);
    if (worker.state === 'retiring' && worker.load === 0) worker.close();
    else this.#threads.offer(worker);
    this.#dispatcher.run();
  }

  #onStarted(worker: WorkerHandle, id: number): void {
    const job = worker.jobs.get(id);
    if (job === undefined || job.settled || job.timeout === 0) return;
    job.timer = setTimeout(() => {
      this.#timedOut(worker, job);
    }, job.timeout);
  }

  #onProgress(worker: WorkerHandle, id: number, value: unknown): void {
    const job = worker.jobs.get(id);
    if (job === undefined || job.settled || job.onProgress === undefined) return;
    try {
      job.onProgress(value);
    } catch (error) {
      // A throwing listener is the caller's bug: surface it like an event handler's would be.
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  #onClosed(worker: WorkerHandle): void {
    worker.terminate();
  }

  #onExited(worker: WorkerHandle, error: unknown): void {
    const wasReady = worker.everReady;
    this.#threads.delete(worker);
    this.broadcasts.threadGone(worker, error); // hook (broadcast)
    this.#emit('threadExit', { threadId: worker.threadId });
    // Threads a forced shutdown terminates (reason: PoolClosedError) did not crash.
    const crashed =
      error !== undefined &&
      !(error instanceof PoolClosedError) &&
      this.#life.failure === undefined &&
      this.#life.state !== 'closed';
    if (crashed) {
      this.#crashed(worker, error, wasReady);
    }
    for (const job of [...worker.jobs.values()]) {
      // A job retried elsewhere may have a timer of its new thread's: leave that one.
      if (job.holder === worker && job.timer !== undefined) {
        clearTimeout(job.timer);
        job.timer = undefined;
      }
      this.#leave(worker, job);
    }
    this.#keyed.threadGone(worker);
    this.#dispatcher.schedule();
    this.#life.checkClosed();
  }

  #crashed(worker: WorkerHandle, error: unknown, wasReady: boolean): void {
    this.stats.crashes++;
    this.#emit('threadCrash', { threadId: worker.threadId, error });
    const back: Job[] = [];
    for (const job of worker.jobs.values()) {
      if (job.settled || job.holder !== worker) continue;
      const phase = worker.phase(job);
      if (phase === 'unstarted') {
        job.tries--; // it never ran: the attempt is given back
        back.push(job);
      } else if (phase === 'finished' && (job.maxTries > 1 || worker.killReason !== undefined)) {
        // It ran to the end but its result died with the thread: run it again, uncharged.
        // With maxTries 1 only when the pool terminated the thread (an aborted or timed-out
        // job of another): that thread's end is the pool's doing, never this job's.
        job.tries--;
        this.stats.retried++;
        back.push(job);
      } else if (phase === 'running' && job.tries < job.maxTries) {
        this.stats.retried++;
        back.push(job);
      } else {
        const message =
          phase === 'finished'
            ? 'the thread died before sending the result of this job (it had finished; maxTries is 1, so it is not run again)'
            : 'the thread running the job died';
        this.#settle(job, false, new WorkerCrashedError(message, { cause: error }));
      }
    }
    for (let i = back.length - 1; i >= 0; i--) this.#requeue(back[i] as Job, false);
    if (!wasReady && ++this.#startFailures >= MAX_START_FAILURES) {
      this.#fail(new WorkerStartupError(this.#startFailures, { cause: error }));
      return;
    }
    this.#replenish();
    this.#dispatcher.run();
  }

  #timedOut(worker: WorkerHandle, job: Job): void {
    if (job.settled || !worker.jobs.has(job.id)) return;
    const timeout = new JobTimeoutError(job.timeout);
    // It stays in worker.jobs (and holds its key's unit and governor slot) until the thread is gone.
    job.timer = undefined;
    job.lingering = worker;
    worker.terminate(
      new WorkerCrashedError('terminated: a job overran its timeout', { cause: timeout }),
    );
    if (job.tries < job.maxTries) {
      this.#requeue(job, true);
      this.#dispatcher.run();
    } else this.#settle(job, false, timeout);
  }

  // ------------------------------------------------------------- threads

  /**
   * A thread did not finish starting within `startupTimeout`: like an init() that threw,
   * the pool fails. During a graceful shutdown only that thread is let go, and the queued
   * jobs are dropped once no thread is left that could run them.
   */
  #startupTimedOut(worker: WorkerHandle): void {
    const timeout = new StartupTimeoutError(this.#options.startupTimeout);
    if (this.#life.state !== 'closing') {
      this.#fail(timeout);
      return;
    }
    const closed = new PoolClosedError('the pool closed before its threads started', {
      cause: timeout,
    });
    worker.terminate(closed);
    if (this.#threads.live() > 0) return;
    this.#gate?.close();
    for (const job of this.#queue.drain()) this.#settle(job, false, closed);
  }

  #replenish(): void {
    const s = this.#life.state;
    const needed =
      s === 'starting' || s === 'running' || (s === 'closing' && this.#queue.length > 0);
    if (needed) this.#threads.replenish();
  }

  /** Changes the number of threads; extra threads finish their jobs, run `cleanup()` and exit. */
  resize(threads: number): void {
    if (this.#life.accepting) this.#threads.resize(threads);
    else this.#threads.target = threads;
  }

  // ------------------------------------------------------------- lifecycle

  #fail(error: Error): void {
    if (!this.#life.fail(error)) return;
    this.#gate?.close();
    this.#keyed.failWaiters(error);
    this.#rejectAll(error);
    this.#threads.terminateAll(error);
  }

  #rejectAll(error: Error): void {
    for (const job of this.#queue.drain()) this.#settle(job, false, error);
    for (const w of this.#threads) {
      for (const job of w.jobs.values()) if (!job.settled) this.#settle(job, false, error);
    }
  }

  /** Graceful: queued and running jobs finish, threads run `cleanup()`. Forced: all rejected, threads terminated. */
  shutdown(force: boolean): Promise<void> {
    const closed = this.#life.close();
    this.#keyed.failWaiters(new PoolClosedError());
    if (force) {
      const error = new PoolClosedError('the pool was shut down by force');
      this.#gate?.close();
      this.#rejectAll(error);
      this.#threads.terminateAll(error);
    } else {
      this.#rejectPaused();
      this.#checkIdle();
    }
    this.#life.checkClosed();
    return closed;
  }
}

/**
 * Whether a job's wait and run times are recorded: one in 8 (ids are sequential), which
 * keeps the percentiles and takes the clock reads off the hot path.
 */
function sampled(job: Job): boolean {
  return (job.id & 7) === 0;
}

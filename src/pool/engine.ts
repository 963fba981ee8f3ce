/**
 * The pool's engine: its lifecycle, the threads' lives (start, ready, exit, replacement
 * after a crash), and failure. It builds its parts in dependency order (threads, keyed
 * targets, governor gate, elastic policy, scheduler), hears every thread through one typed
 * event and passes on what concerns jobs: what becomes of each job (results, timeouts,
 * crash triage) is the scheduler's alone. The public `Pool` is a thin facade over it.
 */
import { Keyed, type KeyCounts } from '../keyed/keyed.js';
import { KeyTable, checkKey } from '../keyed/key-table.js';
import type { Lease } from '../keyed/leases.js';
import { PoolClosedError } from '../util/errors.js';
import { StartupTimeoutError, WorkerCrashedError, WorkerStartupError } from './errors.js';
import type { Job, JobOwner } from './job.js';
import type { ResolvedOptions } from './options.js';
import { StatsRecorder, type PoolCounters, type PoolStats } from './stats.js';
import type { ThreadEvent, ThreadHandle } from '../threads/thread.js';
import { ThreadSet } from '../threads/thread-set.js';
import { fromWire } from '../protocol/wire-error.js';
import { unknownMessage } from '../protocol/messages.js';
import { Lifecycle } from './lifecycle.js';
import { Scheduler } from './scheduler.js';
import { prefetched } from './dispatch-policy.js';
import { GovernorGate } from '../governor/gate.js';
import type { Emit } from './events.js';
import { elasticFor, type Elastic } from '../threads/elastic.js';
import { Broadcaster } from './broadcast.js';
import { startError } from './modules.js';
import type { JobListener, JobTallyListener } from '../observe/job-record.js';

export type { Emit, PoolEvents } from './events.js';

/** Threads dying before they are ready this many times in a row fail the pool. */
const MAX_START_FAILURES = 3;

export class Engine {
  /** The pool's options, resolved. */
  readonly options: ResolvedOptions;
  readonly #emit: Emit;
  readonly stats: StatsRecorder;
  /** The threads and the ready-queue of those with room. */
  readonly #threads: ThreadSet;
  /** Keyed targets' state, shared with the threads. */
  readonly #table: KeyTable;
  /** Keyed targets: the table, the fair queue the scheduler takes jobs from, and leases. */
  readonly #keyed: Keyed;
  readonly #life: Lifecycle;
  /** Cluster-wide keyed targets, when the pool has a governor. */
  readonly #gate: GovernorGate | undefined;
  /** The queue, dispatch, and every job's state. */
  readonly #scheduler: Scheduler;
  readonly #elastic: Elastic<ThreadHandle<Job>>; // [elastic] min..max threads, checked after each dispatch pass
  /** `pool.broadcast` (src/pool/broadcast.ts). */
  readonly broadcasts: Broadcaster;
  #nextId = 1;
  /** Threads that died before becoming ready, in a row. */
  #startFailures = 0;

  constructor(options: ResolvedOptions, emit: Emit) {
    this.options = options;
    this.#emit = emit;
    this.stats = new StatsRecorder(options.statsWindow);
    this.#threads = new ThreadSet(options, (thread, event) => {
      this.#onEvent(thread, event);
    });
    const threads = this.#threads;
    this.#table = new KeyTable(options.defaultTarget, (key, slot, grown) => {
      threads.sendKey(key, slot, grown);
    });
    this.#keyed = new Keyed(this.#table, () => {
      this.#scheduler.schedule();
    });
    this.#life = new Lifecycle(threads);
    this.#gate = options.governor === undefined ? undefined : new GovernorGate(options.governor);
    this.#elastic = elasticFor(options, threads, this.#keyed, this.#life, this.#spawning);
    const elastic = this.#elastic;
    this.#scheduler = new Scheduler(
      options,
      this.#life,
      threads,
      this.#keyed,
      this.#gate,
      this.stats,
      emit,
      () => {
        elastic.check();
      },
    );
    const tasks = (): ReadonlyMap<string, number> | undefined => this.#scheduler.tasks;
    this.broadcasts = new Broadcaster(options, threads, this.#life, tasks, emit);
    // The first thread's creation error is thrown to the Pool's constructor.
    threads.replenish(this.#table);
  }

  get state(): Lifecycle['state'] {
    return this.#life.state;
  }

  nextId(): number {
    return this.#nextId++;
  }

  /** The module's task names, once a thread has reported them. */
  tasks(): string[] | undefined {
    const tasks = this.#scheduler.tasks;
    return tasks === undefined ? undefined : [...tasks.keys()];
  }

  /** Resolves once no thread is starting; rejects if the pool failed. */
  ready(): Promise<void> {
    return this.#life.whenReady();
  }

  /** Inputs a stream's chunk of `task` should carry (see Scheduler.chunkSize). */
  chunkSize(task: string): number {
    return this.#scheduler.chunkSize(task);
  }

  /** Queues a job (or settles it at once: closed pool, unknown task, aborted, queue full). */
  submit(job: Job): void {
    this.#scheduler.submit(job);
  }

  /** Aborts an owner's jobs: the queued ones at once, the running ones through their signal. */
  cancelOwned(owner: JobOwner, reason: unknown, queuedOnly: boolean): void {
    this.#scheduler.cancelOwned(owner, reason, queuedOnly);
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

  /** Adds a listener of settled jobs; returns its unsubscribe. */
  observe(listener: JobListener): () => void {
    return this.#scheduler.observers.add(listener);
  }
  observeTally(listener: JobTallyListener): () => void {
    return this.#scheduler.observers.addTally(listener);
  }

  /** The counters of {@link snapshot}, without its histograms (a queue host's, once a second). */
  counters(): PoolCounters {
    const { inFlight } = this.#scheduler.inputs;
    const held = prefetched(this.#threads, inFlight);
    return this.stats.counters({ threads: this.#threads.size, running: inFlight - held });
  }

  snapshot(): PoolStats {
    const { queued, inFlight } = this.#scheduler.inputs;
    const held = prefetched(this.#threads, inFlight);
    const unstarted = queued + held;
    return this.stats.snapshot({
      threads: this.#threads.size,
      queued: Math.min(unstarted, this.options.maxQueue),
      waiting: Math.max(0, unstarted - this.options.maxQueue),
      running: inFlight - held,
    });
  }

  // ------------------------------------------------------------- what threads say

  #onEvent(thread: ThreadHandle<Job>, event: ThreadEvent): void {
    switch (event.type) {
      case 'ready':
        this.#onReady(thread, event.tasks);
        return;
      case 'start-failed':
        this.#fail(startError(this.options, event.stage, event.module, fromWire(event.error)));
        return;
      case 'spawned':
        this.broadcasts.replay(thread);
        return;
      case 'broadcast-started':
      case 'broadcast-result':
        this.broadcasts.onMessage(thread, event);
        return;
      case 'results':
        this.#scheduler.results(thread, event.batch, event.busy);
        return;
      case 'started':
        this.#scheduler.started(thread, event.id);
        return;
      case 'progress':
        this.#onProgress(thread.held.get(event.id), event.value);
        return;
      case 'closed':
        if (event.error !== undefined) {
          this.#emit('cleanupError', { threadId: thread.threadId, error: fromWire(event.error) });
        }
        thread.terminate();
        return;
      case 'acquire':
        this.#keyed.threadAcquire(thread, event.req, event.key);
        return;
      case 'withdraw':
        this.#keyed.threadWithdraw(thread, event.req);
        return;
      case 'release':
        this.#keyed.threadRelease(event.id);
        return;
      case 'recycle':
        this.#recycled(thread, event.reason, event.heap);
        return;
      case 'startup-timeout':
        this.#startupTimedOut(thread);
        return;
      case 'exit':
        this.#onExit(thread, event.error);
        return;
      default:
        unknownMessage(event);
    }
  }

  #onReady(thread: ThreadHandle<Job>, tasks: string[]): void {
    this.#startFailures = 0;
    this.stats.threadReady(thread);
    this.#scheduler.learnTasks(tasks);
    this.#life.started();
    this.#emit('threadStart', { threadId: thread.threadId });
    if (this.#life.state === 'closed' || this.#life.failure !== undefined) {
      thread.terminate();
      return;
    }
    if (thread.state === 'retiring' || this.#threads.live() > this.#elastic.max) {
      thread.close();
      return;
    }
    this.#life.checkReady();
    this.#threads.offer(thread);
    this.#scheduler.run();
    if (this.#life.state === 'closing') this.#scheduler.checkIdle();
  }

  #onProgress(job: Job | undefined, value: unknown): void {
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

  #onExit(thread: ThreadHandle<Job>, error: unknown): void {
    this.#threads.delete(thread);
    this.#elastic.gone(thread); // [elastic]
    this.broadcasts.threadGone(thread, error);
    this.stats.threadExited(thread);
    this.#emit('threadExit', { threadId: thread.threadId });
    // Threads a forced shutdown terminates (reason: PoolClosedError) did not crash.
    const crashed =
      error !== undefined &&
      !(error instanceof PoolClosedError) &&
      this.#life.failure === undefined &&
      this.#life.state !== 'closed';
    if (crashed) this.#crashed(thread, error);
    this.#scheduler.threadGone(thread);
    this.#keyed.threadGone(thread);
    this.#scheduler.schedule();
    this.#life.checkClosed();
  }

  /** Triage of a dead thread's jobs (the scheduler's), then a replacement thread. */
  #crashed(thread: ThreadHandle<Job>, error: unknown): void {
    this.stats.crashes++;
    this.#emit('threadCrash', {
      threadId: thread.threadId,
      error:
        error instanceof Error
          ? error
          : new WorkerCrashedError('the thread threw a value that is not an Error', {
              cause: error,
            }),
    });
    // The pool terminated it (a timeout, an abort past its grace): not the jobs' doing.
    this.#scheduler.crashed(thread, error, thread.killReason !== undefined);
    if (!thread.everReady && ++this.#startFailures >= MAX_START_FAILURES) {
      this.#fail(new WorkerStartupError(this.#startFailures, { cause: error }));
      return;
    }
    this.#replenish();
    this.#scheduler.run();
  }

  // ------------------------------------------------------------- threads

  /**
   * A thread passed a `recycle` limit (its handle has retired it: it takes no job). It
   * gives back the jobs it had not started (the scheduler requeues them, no try charged)
   * and closes once the ones it runs are answered; a new thread takes its place now.
   */
  #recycled(thread: ThreadHandle<Job>, reason: 'jobs' | 'heap', heap: number): void {
    this.stats.recycled++;
    this.#emit('threadRecycle', { threadId: thread.threadId, reason, heap });
    if (thread.state === 'retiring' && thread.load === 0) thread.close();
    this.#replenish();
  }

  /**
   * A thread did not finish starting within `startupTimeout`: like an init() that threw,
   * the pool fails. During a graceful shutdown only that thread is let go, and the queued
   * jobs are dropped once no thread is left that could run them.
   */
  #startupTimedOut(thread: ThreadHandle<Job>): void {
    const timeout = new StartupTimeoutError(this.options.startupTimeout);
    if (this.#life.state !== 'closing') {
      this.#fail(timeout);
      return;
    }
    const closed = new PoolClosedError('the pool closed before its threads started', {
      cause: timeout,
    });
    thread.terminate(closed);
    if (this.#threads.live() > 0) return;
    this.#gate?.close();
    this.#scheduler.reject(closed, false);
  }

  #replenish(): void {
    const s = this.#life.state;
    const needed =
      s === 'starting' || s === 'running' || (s === 'closing' && this.#scheduler.inputs.queued > 0);
    if (needed)
      this.#spawning(() => {
        this.#threads.replenish(this.#table);
      });
  }

  /** Changes the number of threads; extra threads finish their jobs, run `cleanup()` and exit. */
  resize(threads: number): void {
    this.#elastic.resize(threads); // [elastic] resize pins the count: min = max = threads
    if (!this.#life.accepting) {
      this.#threads.setTarget(threads);
      return;
    }
    this.#spawning(() => {
      this.#threads.resize(threads, this.#table);
    });
  }

  /** Runs `spawn`: a thread that cannot be created now (workerData became uncloneable) fails the pool. */
  readonly #spawning = (spawn: () => void): void => {
    try {
      spawn();
    } catch (error) {
      this.#fail(error as Error);
    }
  };

  // ------------------------------------------------------------- lifecycle

  /** Queued jobs of paused keys would wait forever once the pool is closing. */
  #rejectPaused(): void {
    const error = new PoolClosedError("the pool closed while the job's key was paused");
    for (const job of this.#keyed.pausedJobs()) this.#scheduler.settle(job, false, error);
  }

  #fail(error: Error): void {
    const closing = this.#life.state === 'closing';
    if (!this.#life.fail(error)) return;
    // During a graceful shutdown the jobs still waiting end as the shutdown said, with the cause.
    const rejection = closing
      ? new PoolClosedError('the pool closed before its jobs could run', { cause: error })
      : error;
    this.#gate?.close();
    this.#keyed.failWaiters(rejection);
    this.#scheduler.reject(rejection, true);
    this.#threads.terminateAll(error);
  }

  /** Graceful: queued and running jobs finish, threads run `cleanup()`. Forced: all rejected, threads terminated. */
  shutdown(force: boolean): Promise<void> {
    const closed = this.#life.close();
    this.#keyed.failWaiters(new PoolClosedError());
    if (force) {
      const error = new PoolClosedError('the pool was shut down by force');
      this.#gate?.close();
      this.#scheduler.reject(error, true);
      this.#threads.terminateAll(error);
    } else {
      this.#rejectPaused();
      this.#scheduler.checkIdle();
    }
    this.#life.checkClosed();
    return closed;
  }
}

/**
 * The scheduler owns the jobs: the queue (fair across keys), dispatch to the threads at
 * the head of the ready-queue (one message per thread, sized by the dispatch policy), the
 * count of jobs in flight, and every change of a job's state (queued -> sent -> settled,
 * requeued, timed out, aborted), with the counters that must move with it. The engine
 * tells it what threads said and how they ended; the scheduler decides nothing about
 * threads' lives.
 */
import { performance } from 'node:perf_hooks';
import { Keyed } from '../keyed/keyed.js';
import type { KeyTable } from '../keyed/key-table.js';
import type { KeyedQueue } from '../keyed/keyed-queue.js';
import { AbortError, DataCloneError, PoolClosedError } from '../util/errors.js';
import { onAbort } from '../util/abort.js';
import { JobTimeoutError, QueueFullError, WorkerCrashedError } from './errors.js';
import { refuseTask } from './modules.js';
import type { Job, JobOwner } from './job.js';
import type { ResolvedOptions } from './options.js';
import type { Lifecycle } from './lifecycle.js';
import type { StatsRecorder } from './stats.js';
import type { Emit } from './events.js';
import { DispatchPolicy, LONE_POLL_MS, wouldWait } from './dispatch-policy.js';
import type { GovernorGate } from '../governor/gate.js';
import type { ThreadHandle } from '../threads/thread.js';
import type { ThreadSet } from '../threads/thread-set.js';
import { JobObservers } from '../observe/job-record.js';

export class Scheduler {
  readonly #options: ResolvedOptions;
  readonly #life: Lifecycle;
  readonly #threads: ThreadSet;
  readonly #gate: GovernorGate | undefined;
  readonly #stats: StatsRecorder;
  readonly #emit: Emit;
  /** Keyed targets: the key table, leases, and the queue (fair across keys). */
  readonly keyed: Keyed;
  /** Jobs waiting for a thread; settled (aborted) ones are skipped when reached. */
  readonly #queue: KeyedQueue<Job>;
  readonly #policy: DispatchPolicy;
  /** Jobs sent to a thread and not yet settled. */
  #inFlight = 0;
  /** The same in inputs (a chunk counts as its inputs), for `stats()`. */
  #inputsInFlight = 0;
  /** Inputs beyond one per job in the queue (chunks'), for `stats()`. */
  #queuedExtra = 0;
  /** Task name -> index, once the first thread has reported the module's exports. */
  #tasks: Map<string, number> | undefined;
  /** Whether work arrived since the last 'drain'. */
  #busy = false;
  /** A dispatch pass is queued as a microtask. */
  #scheduled = false;
  /** A lone job's result is being polled for (no nested polls). */
  #polling = false;
  /** Who hears each settled job (`pool.observe`). */
  readonly observers = new JobObservers();

  constructor(
    options: ResolvedOptions,
    life: Lifecycle,
    threads: ThreadSet,
    table: KeyTable,
    gate: GovernorGate | undefined,
    stats: StatsRecorder,
    emit: Emit,
  ) {
    this.#options = options;
    this.#life = life;
    this.#threads = threads;
    this.#gate = gate;
    this.#stats = stats;
    this.#emit = emit;
    this.keyed = new Keyed(table, () => {
      this.schedule();
    });
    this.#queue = this.keyed.queue;
    this.#policy = new DispatchPolicy(options);
  }

  /** The module's task names, once a thread has reported them. */
  get tasks(): ReadonlyMap<string, number> | undefined {
    return this.#tasks;
  }

  /** The first thread to start reports the module's tasks. */
  learnTasks(tasks: string[]): void {
    this.#tasks ??= new Map(tasks.map((name, i) => [name, i]));
  }

  /** Inputs queued and in flight (a chunk counts as its inputs), for `stats()`. */
  get inputs(): { queued: number; inFlight: number } {
    return { queued: this.#queue.length + this.#queuedExtra, inFlight: this.#inputsInFlight };
  }

  /** Queues a job (or settles it at once: closed pool, unknown task, aborted, queue full). */
  submit(job: Job): void {
    const refusal = this.#refusal(job);
    if (refusal !== undefined) {
      job.settle(false, refusal);
      this.#settled(job, false, refusal);
      return;
    }
    const unlisten =
      job.signal === undefined
        ? undefined
        : onAbort(job.signal, () => {
            this.abort(job);
          });
    job.submitted(job.key === undefined ? undefined : this.keyed.table.get(job.key), unlisten);
    this.#busy = true;
    const gated = this.#gate?.gate(
      job,
      () => {
        const failure = this.#life.failure;
        if (failure === undefined) this.#enqueue(job);
        else this.settle(job, false, failure);
      },
      (error) => {
        if (!job.settled) this.settle(job, false, error);
        this.checkIdle();
      },
      (reason) => {
        this.abort(job, reason);
      },
    );
    if (gated === true) job.await();
    else this.#enqueue(job);
  }

  #enqueue(job: Job): void {
    job.enqueue(job.sampled || this.observers.active ? performance.now() : 0);
    this.#queuedExtra += job.size - 1;
    this.#queue.add(job);
    this.schedule();
  }

  #refusal(job: Job): Error | undefined {
    const failure = this.#life.failure;
    if (failure !== undefined) return failure;
    if (!this.#life.accepting) return new PoolClosedError();
    const unknown = refuseTask(this.#options, job.task, this.#tasks); // hook (modules)
    if (unknown !== undefined) return unknown;
    if (job.signal?.aborted === true) return new AbortError(job.signal.reason);
    if (
      job.queueFull === 'reject' &&
      wouldWait(this.#threads, this.#options, this.#queue.length + 1, this.#inFlight) >
        this.#options.maxQueue
    ) {
      return new QueueFullError(this.#options.maxQueue);
    }
    return undefined;
  }

  /** Aborts an owner's jobs: the queued ones at once, the running ones through their signal. */
  cancelOwned(owner: JobOwner, reason: unknown, queuedOnly: boolean): void {
    const doomed: Job[] = [];
    const mine = (job: Job): unknown => job.owner === owner && doomed.push(job);
    this.#queue.forEach(mine);
    this.#gate?.forEachWaiting(mine);
    if (!queuedOnly) {
      for (const w of this.#threads) {
        for (const job of w.jobs()) if (job.owner === owner && !job.settled) doomed.push(job);
      }
    }
    for (const job of doomed) this.abort(job, reason);
  }

  /**
   * Runs a pass soon: at once if a thread is idle, else once this turn of the event loop
   * is over, so that all it submitted travels in one message (streams submit chunk by chunk).
   */
  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    if (this.#threads.anyIdle()) queueMicrotask(this.#run);
    else setImmediate(this.#run);
  }

  readonly #run = (): void => {
    if (this.#scheduled) this.run();
  };

  /** Sends what the threads at the head of the ready-queue have room for now. */
  run(): void {
    this.#scheduled = false;
    const tasks = this.#tasks;
    if (tasks === undefined) return;
    const threads = this.#threads;
    const concurrency = this.#options.concurrency;
    let more = true;
    let last: ThreadHandle | undefined;
    /** Threads passed over in a row because they could only prefetch. */
    let passed = 0;
    while (more && this.#queue.length > 0 && threads.readyCount > 0) {
      const thread = threads.nextReady() as ThreadHandle;
      const room = thread.state === 'ready' ? this.#policy.room(thread.units, thread.load) : 0;
      if (room <= 0) {
        threads.dropReady();
        continue;
      }
      // A thread with a free place starts a job at once; one without would only hold it:
      // go round the others first, so no job waits on a busy thread while one has room.
      if (thread.load >= concurrency && passed < threads.readyCount - 1) {
        threads.rotateReady();
        passed++;
        continue;
      }
      passed = 0;
      // Split what is queued across the threads with room, rather than filling the first.
      const share = Math.ceil(this.#queue.length / threads.readyCount);
      const batch: Job[] = [];
      const now = performance.now();
      for (let inputs = 0; inputs < room && batch.length < share;) {
        const job = this.#queue.next();
        if (job === undefined) {
          more = false; // what is left is held back by its keys' targets
          break;
        }
        if (this.#take(job, thread, now, tasks)) {
          batch.push(job);
          inputs += job.size;
        }
      }
      if (batch.length === 0) continue;
      last = thread;
      for (const [job, error] of thread.send(batch, tasks)) {
        job.unsent();
        this.keyed.give(job);
        this.settle(job, false, new DataCloneError('input', { cause: error }));
      }
      // Its share taken, the next thread takes the next share. (A lone job keeps going to the
      // same thread, which polls for its next job for a moment instead of sleeping.)
      if (this.#queue.length > 0 && threads.readyCount > 1) threads.rotateReady();
    }
    if (this.#queue.length === 0 && threads.anyIdle()) this.#policy.balance(threads);
    this.checkIdle();
    this.#threads.passed(); // [elastic] the engine's elastic check
    if (last !== undefined && !this.#polling) {
      if (!this.#policy.pollsLone(this.#inFlight, this.#queue.length)) return;
      this.#polling = true;
      try {
        last.poll(LONE_POLL_MS);
      } finally {
        this.#polling = false;
      }
    }
  }

  /** A job leaves the queue for `thread`; false if it cannot run (then it is settled). */
  #take(job: Job, thread: ThreadHandle, now: number, tasks: ReadonlyMap<string, number>): boolean {
    this.#queuedExtra -= job.size - 1; // out of the queue (by next())
    const unknown = refuseTask(this.#options, job.task, tasks); // hook (modules)
    if (unknown !== undefined) {
      // Already counted out of the queue by next(): settled here, not by settle().
      this.keyed.give(job);
      job.settle(false, unknown);
      this.#settled(job, false, unknown);
      this.#releaseSlot(job);
      return false;
    }
    job.send(thread, now);
    if (job.sampled) this.#stats.wait(job.queuedAt, now);
    this.#inFlight++;
    this.#inputsInFlight += job.size;
    return true;
  }

  /** A thread reported `count` jobs (all of `task`, if given) run in `busy` ms; it may have room again. */
  ran(thread: ThreadHandle, busy: number, count: number, task?: string): void {
    this.#policy.observe(busy, count, task);
    if (thread.state === 'retiring' && thread.load === 0) thread.close();
    else this.#threads.offer(thread);
    this.run();
  }

  /** Settles a job and keeps the counters right. Every outcome goes through here. */
  settle(job: Job, ok: boolean, value: unknown): void {
    if (job.state === 'queued') {
      this.#queue.removed(job);
      this.#queuedExtra -= job.size - 1;
    } else if (job.state === 'sent') {
      this.#inFlight--;
      this.#inputsInFlight -= job.size;
      if (job.sampled) this.#stats.run(job.sentAt, performance.now());
    }
    if (!job.settle(ok, value)) return;
    this.#releaseSlot(job);
    this.#settled(job, ok, value);
    this.checkIdle();
  }

  /** A job settled: counted, and reported to the observers if any. */
  #settled(job: Job, ok: boolean, value: unknown): void {
    this.#stats.settled(job, ok, value);
    if (this.observers.active) this.observers.report(job, ok, value);
  }

  /** Inputs a stream's chunk of `task` should carry (1: none; see DispatchPolicy). */
  chunkSize(task: string): number {
    return this.#policy.chunkSize(task, this.#gate !== undefined);
  }

  /**
   * A job leaves a thread (answered, given back, or the thread is gone): the thread
   * forgets it, its key's unit comes back, and its governor slot too if it is done.
   */
  leave(thread: ThreadHandle, job: Job): void {
    thread.release(job);
    this.keyed.give(job);
    job.left(thread);
    this.#releaseSlot(job);
  }

  /** Frees the job's governor slot once it is settled and no thread holds it any more. */
  #releaseSlot(job: Job): void {
    if (this.#gate === undefined || !job.settled || job.lingering !== undefined) return;
    if ((job.holder as ThreadHandle | undefined)?.holds(job) === true) return;
    this.#gate.release(job);
  }

  /**
   * Puts a sent job back at the head of the queue: `retry` counts it as a retry, `refund`
   * gives back the try it was sent with (it never ran, or its end was not its own doing).
   */
  requeue(job: Job, retry: boolean, refund: boolean): void {
    if (retry) this.#stats.retried += job.size;
    this.#inFlight--;
    this.#inputsInFlight -= job.size;
    job.requeue(refund);
    this.#queuedExtra += job.size - 1;
    this.#queue.add(job, true);
  }

  abort(job: Job, reason: unknown = job.signal?.reason): void {
    if (job.settled) return;
    if (job.state === 'waiting') this.#gate?.withdraw(job);
    const holder = job.holder as ThreadHandle | undefined;
    this.settle(job, false, new AbortError(reason));
    if (holder === undefined) return;
    holder.cancel(job.id);
    // Read after the cancel was counted: a job not started by now never starts (the thread
    // checks the count before each job), so it leaves its thread at once, key unit and all.
    const phase = holder.phase(job);
    if (phase === 'unstarted') {
      holder.forget(job);
      this.leave(holder, job);
      return;
    }
    if (phase === 'finished') return; // its result is on its way
    // The task may ignore its signal: past the grace period its thread is replaced.
    job.startTimer(this.#options.abortGrace, () => {
      this.#graceOver(holder, job);
    });
  }

  /** An aborted job's grace is over: terminates its thread if the job still runs there. */
  #graceOver(holder: ThreadHandle, job: Job): void {
    if (!holder.holds(job)) return;
    // Its result (and others') may wait in the port while this thread was busy.
    holder.drain();
    if (!holder.holds(job) || holder.phase(job) === 'finished') return;
    holder.terminate(
      new WorkerCrashedError(
        `terminated: an aborted job did not settle within abortGrace (${this.#options.abortGrace} ms)`,
      ),
    );
  }

  /** A timed job started on `thread`: its clock runs. */
  started(thread: ThreadHandle, job: Job): void {
    if (job.settled || job.timeout === 0) return;
    job.startTimer(job.timeout, () => {
      this.#timedOut(thread, job);
    });
  }

  #timedOut(thread: ThreadHandle, job: Job): void {
    if (job.settled || !thread.holds(job)) return;
    const timeout = new JobTimeoutError(job.timeout);
    // It stays on the thread (and holds its key's unit and governor slot) until the thread is gone.
    job.linger(thread);
    thread.terminate(
      new WorkerCrashedError('terminated: a job overran its timeout', { cause: timeout }),
    );
    if (job.tries < job.maxTries) {
      this.requeue(job, true, false);
      this.run();
    } else this.settle(job, false, timeout);
  }

  /** The queue emptied and nothing runs: 'drain', and a closing pool lets idle threads go. */
  checkIdle(): void {
    if (this.#queue.length > 0 || this.#inFlight > 0 || (this.#gate?.waiting ?? 0) > 0) return;
    if (this.#busy) {
      this.#busy = false;
      this.#emit('drain');
    }
    if (this.#life.state === 'closing') this.#threads.closeIdle();
  }

  /** Rejects the queued jobs, and with `all` those on threads too. */
  reject(error: Error, all: boolean): void {
    for (const job of this.#queue.drain()) this.settle(job, false, error);
    if (!all) return;
    for (const w of this.#threads) {
      for (const job of w.jobs()) if (!job.settled) this.settle(job, false, error);
    }
  }
}

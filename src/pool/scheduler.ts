/**
 * The scheduler owns the jobs: the queue (fair across keys), dispatch to the threads at
 * the head of the ready-queue (one message per thread, sized by the dispatch policy), the
 * count of jobs in flight, and every change of a job's state (queued -> sent -> settled,
 * requeued, timed out, aborted), with the counters that must move with it: it alone
 * writes a job. The engine tells it what threads said and how they ended; the scheduler
 * decides nothing about threads' lives.
 */
import { performance } from 'node:perf_hooks';
import type { Keyed } from '../keyed/keyed.js';
import type { KeyedQueue } from '../keyed/keyed-queue.js';
import { AbortError, DataCloneError, PoolClosedError } from '../util/errors.js';
import { JobTimeoutError, QueueFullError, WorkerCrashedError } from './errors.js';
import { refuseTask } from './modules.js';
import type { Job, JobOwner } from './job.js';
import { JobTimers } from './job-timers.js';
import { crashError, cutChunk, judgeAnswers } from './chunk.js';
import { ResultStatus, readResults } from '../protocol/codec.js';
import { fromWire, type WireError } from '../protocol/wire-error.js';
import { crashVerdict, refundsTry, runsAgain } from '../threads/triage.js';
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
  /** Keyed targets: a job's key unit is taken when it leaves the queue, given back here. */
  readonly #keyed: Keyed;
  /** Runs at the end of each dispatch pass (the engine's elastic check). */
  readonly #passed: () => void;
  /** Jobs waiting for a thread; settled (aborted) ones are skipped when reached. */
  readonly #queue: KeyedQueue<Job>;
  readonly #policy: DispatchPolicy;
  readonly #timers: JobTimers;
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
  /** Jobs put in the batch being built for a thread (they start at once while it has places). */
  #sending = 0;
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
    keyed: Keyed,
    gate: GovernorGate | undefined,
    stats: StatsRecorder,
    emit: Emit,
    passed: () => void,
  ) {
    this.#options = options;
    this.#life = life;
    this.#threads = threads;
    this.#keyed = keyed;
    this.#gate = gate;
    this.#stats = stats;
    this.#emit = emit;
    this.#passed = passed;
    this.#queue = keyed.queue;
    this.#policy = new DispatchPolicy(options);
    this.#timers = new JobTimers(options.abortGrace, (thread, job) => {
      this.#timedOut(thread, job);
    });
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
      this.settle(job, false, refusal);
      return;
    }
    if (job.signal !== undefined) {
      job.listen(job.signal, () => {
        this.abort(job);
      });
    }
    job.submitted(job.key === undefined ? undefined : this.#keyed.stateOf(job.key));
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
    // Once shut down, a failed pool is closed like any other: the failure is the cause.
    if (failure !== undefined && this.#life.state === 'closed')
      return new PoolClosedError(undefined, { cause: failure });
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
        for (const job of w.held.jobs()) if (job.owner === owner && !job.settled) doomed.push(job);
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
    let last: ThreadHandle<Job> | undefined;
    /** Threads passed over in a row because they could only prefetch. */
    let passed = 0;
    while (more && this.#queue.length > 0 && threads.readyCount > 0) {
      const thread = threads.nextReady() as ThreadHandle<Job>;
      let room = thread.state === 'ready' ? this.#policy.room(thread.units, thread.load) : 0;
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
      this.#sending = 0;
      for (let inputs = 0; inputs < room && batch.length < share;) {
        const job = this.#queue.next();
        if (job === undefined) {
          more = false; // what is left is held back by its keys' targets
          break;
        }
        if (this.#take(job, thread, now, tasks)) {
          batch.push(job);
          inputs += job.size;
          room = this.#policy.room(thread.units, thread.load, job.task);
        }
      }
      if (batch.length === 0) continue;
      last = thread;
      for (const [job, error] of thread.send(batch, tasks)) {
        job.unsent();
        this.#keyed.give(job);
        this.settle(job, false, new DataCloneError('input', { cause: error }));
      }
      // Its share taken, the next thread takes the next share. (A lone job keeps going to the
      // same thread, which polls for its next job for a moment instead of sleeping.)
      if (this.#queue.length > 0 && threads.readyCount > 1) threads.rotateReady();
    }
    if (this.#queue.length === 0 && threads.anyIdle()) this.#policy.balance(threads);
    this.checkIdle();
    this.#passed(); // [elastic] the engine's elastic check
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
  #take(
    job: Job,
    thread: ThreadHandle<Job>,
    now: number,
    tasks: ReadonlyMap<string, number>,
  ): boolean {
    this.#queuedExtra -= job.size - 1; // out of the queue (by next())
    const unknown = refuseTask(this.#options, job.task, tasks); // hook (modules)
    if (unknown !== undefined) {
      job.taken(); // already counted out of the queue by next()
      this.#keyed.give(job);
      this.settle(job, false, unknown);
      return false;
    }
    // A thread with a free place starts it on arrival; else a later look dates its start.
    const starts = thread.load + this.#sending < this.#options.concurrency;
    job.send(thread, now);
    if (starts) job.startedAt = now;
    this.#sending++;
    this.#inFlight++;
    this.#inputsInFlight += job.size;
    return true;
  }

  /**
   * A thread's batch of results, `busy` ms of its work: each job settles, runs again (a
   * retryable error with tries left, or given back unstarted), or, for a chunk whose
   * thread is dying, keeps the answers sent so far until the thread's exit judges it. The
   * thread may have room again.
   */
  results(thread: ThreadHandle<Job>, batch: unknown[], busy: number): void {
    const held = thread.held;
    /** Jobs counted as run (a chunk as its inputs), for the dispatch policy. */
    let counted = 0;
    /** The task of every result so far, if they share one; null if not. */
    let task: string | null | undefined;
    readResults(batch, (id, status, value) => {
      const job = held.get(id);
      if (job === undefined) return;
      if (task !== job.task) task = task === undefined ? job.task : null;
      if (status === ResultStatus.Part) {
        job.keepPart(value as unknown[]); // the thread is dying: its exit settles the chunk
        return;
      }
      if (status === ResultStatus.Dropped) held.forget(job);
      this.leave(thread, job);
      // Given up on this thread (it overran its timeout and went on elsewhere): its timer
      // and its outcome belong to where it is now.
      if (job.holder !== thread) return;
      this.#timers.stop(job);
      if (job.settled) return;
      if (status === ResultStatus.Ok) {
        counted++;
        this.settle(job, true, value);
      } else if (status === ResultStatus.Chunk) {
        counted += job.size;
        this.settle(job, true, judgeAnswers(job, value as unknown[]));
      } else if (status === ResultStatus.Dropped) {
        this.requeue(job, false, true); // it never ran: the attempt is given back
      } else {
        counted++;
        const wire = value as WireError;
        if (wire.retry && job.tries < job.maxTries) this.requeue(job, true, false);
        else this.settle(job, false, fromWire(wire));
      }
    });
    held.look(performance.now()); // after: the jobs answered here are dated by the last look
    this.#stats.threadBusy(thread, busy);
    this.#policy.observe(busy, counted, task ?? undefined);
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
      if (job.sampled) this.#stats.timed(job, job.holder?.held.lookedAt ?? 0);
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
  leave(thread: ThreadHandle<Job>, job: Job): void {
    thread.release(job);
    this.#keyed.give(job);
    job.left(thread);
    this.#releaseSlot(job);
  }

  /** Frees the job's governor slot once it is settled and no thread holds it any more. */
  #releaseSlot(job: Job): void {
    if (this.#gate === undefined || !job.settled || job.lingering !== undefined) return;
    if (job.holder?.held.holds(job) === true) return;
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
    const holder = job.holder;
    this.settle(job, false, new AbortError(reason));
    if (holder === undefined) return;
    holder.cancel(job.id);
    // Read after the cancel was counted: a job not started by now never starts (the thread
    // checks the count before each job), so it leaves its thread at once, key unit and all.
    const phase = holder.held.phase(job);
    // A process's counters may lag: there the job leaves when the child answers it (Dropped).
    if (phase === 'unstarted' && holder.sharedProgress) {
      holder.held.forget(job);
      this.leave(holder, job);
      return;
    }
    if (phase === 'finished') return; // its result is on its way
    // The task may ignore its signal: past the grace period its thread is replaced.
    this.#timers.grace(holder, job);
  }

  /** The thread said it started job `id`: a timed job's clock runs. */
  started(thread: ThreadHandle<Job>, id: number): void {
    const job = thread.held.get(id);
    if (job !== undefined) this.#timers.started(thread, job);
  }

  /** A job overran its timeout on `thread` (see JobTimers). */
  #timedOut(thread: ThreadHandle<Job>, job: Job): void {
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
      for (const job of w.held.jobs()) if (!job.settled) this.settle(job, false, error);
    }
  }

  /**
   * Triage of a crashed thread's jobs (see triage.ts): each settles, or goes back to the
   * head of the queue, in its order on the thread. `killedByPool`: the pool terminated the
   * thread (a timeout, an abort past its grace), which is not the jobs' doing.
   */
  crashed(thread: ThreadHandle<Job>, error: unknown, killedByPool: boolean): void {
    const held = thread.held;
    const back: [Job, boolean, boolean][] = [];
    for (const job of held.jobs()) {
      if (job.settled || job.holder !== thread) continue;
      const phase = held.phase(job);
      if (job.chunk && (phase === 'running' || (phase === 'finished' && job.part !== undefined))) {
        // Cut off in the middle: each input is judged on its own (see chunk.ts).
        const fates = cutChunk(job, held.progressOf(job), error, killedByPool);
        this.settle(job, true, fates);
        continue;
      }
      const verdict = crashVerdict(phase, job.tries, job.maxTries, killedByPool);
      if (runsAgain(verdict)) {
        back.push([job, verdict !== 'requeue', refundsTry(verdict)]);
        continue;
      }
      this.settle(job, false, crashError(verdict, error));
    }
    for (let i = back.length - 1; i >= 0; i--) {
      const [job, retry, refund] = back[i] as [Job, boolean, boolean];
      this.requeue(job, retry, refund);
    }
  }

  /** A thread exited: every job it held leaves it (its timer with it, unless it runs elsewhere now). */
  threadGone(thread: ThreadHandle<Job>): void {
    for (const job of [...thread.held.jobs()]) {
      if (job.holder === thread) this.#timers.stop(job);
      this.leave(thread, job);
    }
  }
}

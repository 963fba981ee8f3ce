/**
 * Dispatch: takes queued jobs to the threads at the head of the ready-queue, in one
 * message per thread, sized by how long jobs take; gives idle threads a share of a busy
 * thread's backlog; and, for a lone tiny job, polls for its result instead of sleeping.
 * What a job's state becomes when it is sent stays with the engine (the host).
 */
import { performance } from 'node:perf_hooks';
import { batchRoom } from './batching.js';
import type { Job } from './job.js';
import type { KeyedQueue } from '../keyed/keyed-queue.js';
import type { ResolvedOptions } from './options.js';
import type { ThreadSet } from '../threads/thread-set.js';
import type { WorkerHandle } from '../threads/thread.js';

/** A lone job this short (ms) is waited for by polling its port... */
const LONE_JOB_MS = 0.02;
/** ...for at most this long (ms). */
const LONE_POLL_MS = 0.04;

/** What dispatch needs from the engine. */
export interface DispatchHost {
  /** Task name -> index, once a thread has reported the module's exports. */
  tasks(): ReadonlyMap<string, number> | undefined;
  /** The job goes to `worker`; false if it cannot run (the host has settled it). */
  take(job: Job, worker: WorkerHandle, now: number, tasks: ReadonlyMap<string, number>): boolean;
  /** The job was taken but could not be sent (its input cannot be cloned). */
  unsent(job: Job, error: unknown): void;
  /** Jobs sent and not yet settled. */
  inFlight(): number;
  /** A dispatch pass ended. */
  passed(): void;
}

export class Dispatcher {
  readonly #options: ResolvedOptions;
  readonly #queue: KeyedQueue;
  readonly #threads: ThreadSet;
  readonly #host: DispatchHost;
  /** A pass is queued as a microtask. */
  #scheduled = false;
  /** #awaitLone is polling (no nested polls). */
  #polling = false;
  /** Moving average of one job's run time (ms) in a thread, to size batches. */
  #jobMs: number | undefined;

  constructor(options: ResolvedOptions, queue: KeyedQueue, threads: ThreadSet, host: DispatchHost) {
    this.#options = options;
    this.#queue = queue;
    this.#threads = threads;
    this.#host = host;
  }

  /** Runs a pass soon: jobs submitted in the same tick travel together. */
  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.run();
    });
  }

  /** A thread reported `count` jobs run in `busy` ms. */
  observe(busy: number, count: number): void {
    if (count === 0) return;
    const perJob = busy / count;
    this.#jobMs = this.#jobMs === undefined ? perJob : this.#jobMs * 0.75 + perJob * 0.25;
  }

  /** Sends what the threads have room for now. */
  run(): void {
    this.#scheduled = false;
    const tasks = this.#host.tasks();
    if (tasks === undefined) return;
    const ready = this.#threads.ready;
    const concurrency = this.#options.concurrency;
    let more = true;
    let last: WorkerHandle | undefined;
    /** Threads passed over in a row because they could only prefetch. */
    let passed = 0;
    while (more && this.#queue.length > 0 && ready.length > 0) {
      const worker = ready.peek() as WorkerHandle;
      const room =
        worker.state === 'ready' ? batchRoom(this.#options, this.#jobMs, worker.load) : 0;
      if (room <= 0) {
        ready.shift();
        worker.inReady = false;
        continue;
      }
      // A thread with a free place starts a job at once; one without would only hold it:
      // go round the others first, so no job waits on a busy thread while one has room.
      if (worker.load >= concurrency && passed < ready.length - 1) {
        ready.push(ready.shift() as WorkerHandle);
        passed++;
        continue;
      }
      passed = 0;
      // Split what is queued across the threads with room, rather than filling the first.
      const limit = Math.min(room, Math.ceil(this.#queue.length / ready.length));
      const batch: Job[] = [];
      const now = performance.now();
      while (batch.length < limit) {
        const job = this.#queue.next();
        if (job === undefined) {
          more = false; // what is left is held back by its keys' targets
          break;
        }
        if (this.#host.take(job, worker, now, tasks)) batch.push(job);
      }
      if (batch.length === 0) continue;
      last = worker;
      for (const [job, error] of worker.send(batch, tasks)) this.#host.unsent(job, error);
      // Its share taken, the next thread takes the next share. (A lone job keeps going to the
      // same thread, which polls for its next job for a moment instead of sleeping.)
      if (this.#queue.length > 0 && ready.length > 1) ready.push(ready.shift() as WorkerHandle);
    }
    if (this.#queue.length === 0) this.#balance();
    this.#host.passed();
    if (last !== undefined) this.#awaitLone(last);
  }

  /**
   * One tiny job in flight and nothing else to do: the caller is most likely awaiting it
   * (sequential round trips). Polling the port for a few µs takes its result without the
   * ~25 µs it costs to wake this thread from sleep. Bounded, and never for slow jobs.
   */
  #awaitLone(worker: WorkerHandle): void {
    if (this.#polling || this.#host.inFlight() !== 1 || this.#queue.length > 0) return;
    if (this.#jobMs === undefined || this.#jobMs > LONE_JOB_MS) return;
    this.#polling = true;
    try {
      worker.poll(LONE_POLL_MS);
    } finally {
      this.#polling = false;
    }
  }

  /**
   * With nothing queued and a thread idle, asks a thread with a backlog of unstarted
   * jobs to give half of it back, so a slow job never holds others while a thread idles.
   */
  #balance(): void {
    if (!this.#threads.anyIdle()) return;
    for (const w of this.#threads) {
      const most = w.load - this.#options.concurrency;
      // Not worth a round trip for a backlog the thread clears in about a millisecond.
      if (most <= 0 || (this.#jobMs !== undefined && most * this.#jobMs < 1)) continue;
      const backlog = w.unstarted();
      if (backlog === 0) continue;
      w.steal(Math.ceil(backlog / 2));
    }
  }
}

/**
 * The pool's threads: the live set, the ready-queue of threads with room (the
 * `chan chan Job`: a thread with room announces itself, a job goes to the thread at
 * the head), the wanted count, resizing, and each thread's start-up time limit.
 */
import { Deque } from '../util/deque.js';
import { DataCloneError, InvalidOptionError } from '../util/errors.js';
import type { ResolvedOptions } from '../pool/options.js';
import { WorkerHandle, type KeySnapshot, type WorkerListener } from './thread.js';

/** What the thread set reports to the engine (what the threads themselves say goes to the listener). */
export interface ThreadSetHost {
  /** A thread did not finish starting within `startupTimeout`. */
  startupTimedOut(worker: WorkerHandle): void;
  /** A thread could not be created after the first one was (the `workerData` became uncloneable). */
  spawnFailed(error: Error): void;
  /** A thread was created (hook: sticky broadcasts are sent to it before any job). */
  spawned(worker: WorkerHandle): void;
}

export class ThreadSet {
  readonly #options: ResolvedOptions;
  readonly #listener: WorkerListener;
  readonly #host: ThreadSetHost;
  /** What a new thread is told about keyed targets. */
  readonly #keys: () => KeySnapshot;
  /** Every live thread. */
  readonly #all = new Set<WorkerHandle>();
  /** The start-up timer of each thread that has one. */
  readonly #startTimers = new Map<WorkerHandle, NodeJS.Timeout>();
  /** Whether a thread was ever created: until then a creation error is thrown to the constructor. */
  #created = false;
  /** Threads with room, in the order they announced it. */
  readonly ready = new Deque<WorkerHandle>();
  /** Threads wanted. */
  target: number;

  constructor(
    options: ResolvedOptions,
    listener: WorkerListener,
    keys: () => KeySnapshot,
    host: ThreadSetHost,
  ) {
    this.#options = options;
    this.#listener = listener;
    this.#keys = keys;
    this.#host = host;
    this.target = options.threads;
  }

  get size(): number {
    return this.#all.size;
  }

  [Symbol.iterator](): IterableIterator<WorkerHandle> {
    return this.#all.values();
  }

  /**
   * Starts a thread. Throws `ERR_INVALID_OPTION` (execArgv) or `ERR_DATA_CLONE` (workerData)
   * when the first thread cannot be created; a later failure is reported to the host.
   */
  spawn(): void {
    let worker: WorkerHandle;
    try {
      worker = new WorkerHandle(this.#options, this.#listener, this.#keys());
    } catch (error) {
      const typed = creationError(error, this.#options);
      if (!this.#created) throw typed;
      this.#host.spawnFailed(typed);
      return;
    }
    this.#created = true;
    this.#all.add(worker);
    this.#host.spawned(worker);
    const limit = this.#options.startupTimeout;
    if (limit > 0) {
      const timer = setTimeout(() => {
        this.#startTimers.delete(worker);
        const starting = worker.state === 'starting' || worker.state === 'retiring';
        if (starting && !worker.everReady) this.#host.startupTimedOut(worker);
      }, limit);
      // The starting thread itself keeps the process alive; the timer need not.
      timer.unref();
      this.#startTimers.set(worker, timer);
    }
  }

  delete(worker: WorkerHandle): void {
    this.#all.delete(worker);
    clearTimeout(this.#startTimers.get(worker));
    this.#startTimers.delete(worker);
  }

  /** Threads that are or will be taking jobs (not retiring, closing or exited). */
  live(): number {
    let n = 0;
    for (const w of this.#all) if (w.state === 'starting' || w.state === 'ready') n++;
    return n;
  }

  starting(): number {
    let n = 0;
    for (const w of this.#all) if (w.state === 'starting') n++;
    return n;
  }

  /** Whether some ready thread holds no job. */
  anyIdle(): boolean {
    for (const w of this.#all) if (w.state === 'ready' && w.load === 0) return true;
    return false;
  }

  /** Puts a thread with room into the ready-queue. */
  offer(worker: WorkerHandle): void {
    if (worker.inReady || worker.state !== 'ready') return;
    worker.inReady = true;
    this.ready.push(worker);
  }

  /** Starts threads up to the wanted count. */
  replenish(): void {
    for (let n = this.live(); n < this.target; n++) this.spawn();
  }

  /** Changes the wanted count; extra threads finish their jobs, run `cleanup()` and exit. */
  resize(threads: number): void {
    this.target = threads;
    let excess = this.live() - threads;
    if (excess < 0) {
      this.replenish();
      return;
    }
    // Retire idle threads first, then busy ones (after their jobs), then ones still starting.
    const order = [...this.#all].sort((a, b) => rank(a) - rank(b));
    for (const w of order) {
      if (excess <= 0) break;
      if (w.state === 'ready' && w.load === 0) w.close();
      else if (w.state === 'ready' || w.state === 'starting') w.state = 'retiring';
      else continue;
      excess--;
    }
  }

  /** Closing: threads with nothing left to do run `cleanup()` and exit. */
  closeIdle(): void {
    for (const w of this.#all) {
      if (w.state === 'ready' || (w.state === 'retiring' && w.load === 0)) w.close();
    }
  }

  terminateAll(reason: Error): void {
    for (const w of this.#all) w.terminate(reason);
  }
}

/** Node's errors from `new Worker` as corral's: a flag it refuses, or `workerData` it cannot clone. */
function creationError(error: unknown, options: ResolvedOptions): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_WORKER_INVALID_EXEC_ARGV') {
    return new InvalidOptionError(
      'execArgv',
      'flags Node accepts in worker threads',
      (options.execArgv ?? []).join(' '),
      { cause: error },
    );
  }
  if (error instanceof Error && error.name === 'DataCloneError') {
    return new DataCloneError('workerData', { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

function rank(w: WorkerHandle): number {
  if (w.state === 'ready') return w.load === 0 ? 0 : 1;
  return 2;
}

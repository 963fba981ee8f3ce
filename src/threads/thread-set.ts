/**
 * The pool's threads: the live set, the ready-queue of threads with room (the
 * `chan chan Job`: a thread with room announces itself, a job goes to the thread at
 * the head), the wanted count and resizing. (Each thread's start-up time limit is its
 * handle's: `thread.ts`.)
 */
import { Deque } from '../util/deque.js';
import { DataCloneError, InvalidOptionError } from '../util/errors.js';
import type { ResolvedOptions } from '../pool/options.js';
import type { Job } from '../pool/job.js';
import { ThreadHandle, type KeySource, type ThreadEvents } from './thread.js';

export class ThreadSet {
  readonly #options: ResolvedOptions;
  /** Hears every thread's events. */
  readonly #events: ThreadEvents<Job>;
  /** Every live thread. */
  readonly #all = new Set<ThreadHandle<Job>>();
  /** Whether a thread was ever created: until then a creation error is thrown to the constructor. */
  #created = false;
  /** Threads with room, in the order they announced it. */
  readonly #ready = new Deque<ThreadHandle<Job>>();
  /** The threads in {@link #ready}. */
  readonly #inReady = new Set<ThreadHandle<Job>>();
  /** Threads wanted. */
  #target: number;

  constructor(options: ResolvedOptions, events: ThreadEvents<Job>) {
    this.#options = options;
    this.#events = events;
    this.#target = options.threads;
  }

  get size(): number {
    return this.#all.size;
  }

  /** Threads wanted. */
  get target(): number {
    return this.#target;
  }

  [Symbol.iterator](): IterableIterator<ThreadHandle<Job>> {
    return this.#all.values();
  }

  /**
   * Starts a thread, told the keyed targets' state `keys`. Throws `ERR_INVALID_OPTION`
   * (execArgv) or `ERR_DATA_CLONE` (workerData) when it cannot be created.
   */
  spawn(keys: KeySource): void {
    let thread: ThreadHandle<Job>;
    try {
      thread = new ThreadHandle<Job>(this.#options, keys, this.#events);
    } catch (error) {
      throw creationError(error, this.#options);
    }
    this.#created = true;
    this.#all.add(thread);
    // Before any job can be sent to it (sticky broadcasts go first: src/pool/broadcast.ts).
    this.#events(thread, { type: 'spawned' });
  }

  /** Whether a thread was ever created (a later creation failure fails the pool instead). */
  get created(): boolean {
    return this.#created;
  }

  delete(thread: ThreadHandle<Job>): void {
    this.#all.delete(thread);
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

  // ------------------------------------------------------------- the ready-queue

  /** Puts a thread with room into the ready-queue. */
  offer(thread: ThreadHandle<Job>): void {
    if (thread.state !== 'ready' || this.#inReady.has(thread)) return;
    this.#inReady.add(thread);
    this.#ready.push(thread);
  }

  /** Threads in the ready-queue. */
  get readyCount(): number {
    return this.#ready.length;
  }

  /** The thread at the head of the ready-queue. */
  nextReady(): ThreadHandle<Job> | undefined {
    return this.#ready.peek();
  }

  /** Takes the head out of the ready-queue (it has no room). */
  dropReady(): void {
    const thread = this.#ready.shift();
    if (thread !== undefined) this.#inReady.delete(thread);
  }

  /** Moves the head of the ready-queue to its end. */
  rotateReady(): void {
    const thread = this.#ready.shift();
    if (thread !== undefined) this.#ready.push(thread);
  }

  // ------------------------------------------------------------- how many

  /** Starts threads up to the wanted count (throws as {@link spawn} does). */
  replenish(keys: KeySource): void {
    for (let n = this.live(); n < this.#target; n++) this.spawn(keys);
  }

  /** Changes the wanted count without starting or retiring threads (the pool is closing). */
  setTarget(threads: number): void {
    this.#target = threads;
  }

  /** Changes the wanted count; extra threads finish their jobs, run `cleanup()` and exit. */
  resize(threads: number, keys: KeySource): void {
    this.#target = threads;
    let excess = this.live() - threads;
    if (excess < 0) {
      this.replenish(keys);
      return;
    }
    // Retire idle threads first, then busy ones (after their jobs), then ones still starting.
    const order = [...this.#all].sort((a, b) => rank(a) - rank(b));
    for (const w of order) {
      if (excess <= 0) break;
      if (w.state === 'ready' && w.load === 0) w.close();
      else if (w.state === 'ready' || w.state === 'starting') w.retire();
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

  /** Tells every thread about a new key (and the counters' new buffer, if they grew). */
  sendKey(key: string, slot: number, counters: Int32Array | undefined): void {
    for (const w of this.#all) w.sendKey(key, slot, counters);
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

function rank(w: ThreadHandle<Job>): number {
  if (w.state === 'ready') return w.load === 0 ? 0 : 1;
  return 2;
}

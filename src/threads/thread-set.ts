/**
 * The pool's threads: the live set, the ready-queue of threads with room (the
 * `chan chan Job`: a thread with room announces itself, a job goes to the thread at
 * the head), the wanted count, and resizing.
 */
import { Deque } from '../util/deque.js';
import type { ResolvedOptions } from '../pool/options.js';
import { WorkerHandle, type KeySnapshot, type WorkerListener } from './thread.js';

export class ThreadSet {
  readonly #options: ResolvedOptions;
  readonly #listener: WorkerListener;
  /** What a new thread is told about keyed targets. */
  readonly #keys: () => KeySnapshot;
  /** Every live thread. */
  readonly #all = new Set<WorkerHandle>();
  /** Threads with room, in the order they announced it. */
  readonly ready = new Deque<WorkerHandle>();
  /** Threads wanted. */
  target: number;

  constructor(options: ResolvedOptions, listener: WorkerListener, keys: () => KeySnapshot) {
    this.#options = options;
    this.#listener = listener;
    this.#keys = keys;
    this.target = options.threads;
  }

  get size(): number {
    return this.#all.size;
  }

  [Symbol.iterator](): IterableIterator<WorkerHandle> {
    return this.#all.values();
  }

  spawn(): void {
    this.#all.add(new WorkerHandle(this.#options, this.#listener, this.#keys()));
  }

  delete(worker: WorkerHandle): void {
    this.#all.delete(worker);
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

function rank(w: WorkerHandle): number {
  if (w.state === 'ready') return w.load === 0 ? 0 : 1;
  return 2;
}

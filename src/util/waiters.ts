/**
 * A FIFO of callers waiting for something (a slot, a resource, a lease, the next item),
 * each answered exactly once. A waiter whose caller gives up (its signal aborts, its
 * thread died) leaves the queue at once, in O(1): the queue is a linked list, so a
 * caller polling with short timeouts cannot pile up dead entries the way tombstones or
 * an array filtered on each abort would.
 */
import { abortable } from './abort.js';

/** A waiter taken off the queue with {@link WaiterQueue.shift}: answer it once. */
export interface Waiter<T, Tag = unknown> {
  /** What the caller queued with, e.g. who asked. */
  readonly tag: Tag | undefined;
  /** Answered, or withdrawn (its caller gave up, e.g. its signal aborted). */
  readonly settled: boolean;
  /** Answers with a value; returns false, doing nothing, if the waiter was settled already. */
  resolve(value: T): boolean;
  /** Answers with an error; returns false, doing nothing, if the waiter was settled already. */
  reject(error: unknown): boolean;
}

class Entry<T, Tag> implements Waiter<T, Tag> {
  readonly tag: Tag | undefined;
  settled = false;
  /** Neighbours while queued; both undefined once off the queue. */
  prev: Entry<T, Tag> | undefined;
  next: Entry<T, Tag> | undefined;
  /** Whether it is still in the queue (not yet shifted, drained or withdrawn). */
  queued = true;
  readonly #resolve: (value: T) => void;
  readonly #reject: (error: unknown) => void;

  constructor(resolve: (value: T) => void, reject: (error: unknown) => void, tag: Tag | undefined) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.tag = tag;
  }

  resolve(value: T): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.#resolve(value);
    return true;
  }

  reject(error: unknown): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.#reject(error);
    return true;
  }
}

/**
 * Callers waiting in arrival order. Add one with {@link WaiterQueue.wait} (a promise an
 * AbortSignal can withdraw) or {@link WaiterQueue.add} (callbacks and a withdraw function);
 * serve the oldest with {@link WaiterQueue.shift}.
 *
 * @example
 * ```ts
 * const waiting = new WaiterQueue<Slot>();
 * const slot = waiting.wait(signal); // in start()
 * waiting.shift()?.resolve(freed); // when a slot is freed
 * waiting.rejectAll(new PoolClosedError()); // on close
 * ```
 */
export class WaiterQueue<T, Tag = unknown> {
  /** Oldest waiter, served first. */
  #head: Entry<T, Tag> | undefined;
  /** Newest waiter. */
  #tail: Entry<T, Tag> | undefined;
  /** Waiters queued. */
  #length = 0;

  /** Waiters queued (withdrawn and served ones are not counted). */
  get length(): number {
    return this.#length;
  }

  /**
   * Queues a caller answered through callbacks. Returns a function that withdraws it: off
   * the queue, and never answered (a no-op once answered).
   */
  add(resolve: (value: T) => void, reject: (error: unknown) => void, tag?: Tag): () => void {
    const entry = new Entry(resolve, reject, tag);
    entry.prev = this.#tail;
    if (this.#tail === undefined) this.#head = entry;
    else this.#tail.next = entry;
    this.#tail = entry;
    this.#length++;
    return () => {
      if (entry.settled) return;
      entry.settled = true;
      this.#unlink(entry);
    };
  }

  /**
   * Queues a caller as a promise, answered by whoever shifts it. When `signal` aborts
   * before then, the waiter is withdrawn (also after it was shifted: its `settled` turns
   * true, so the one serving it can tell) and the promise rejects with an `AbortError`.
   */
  wait(signal?: AbortSignal, tag?: Tag): Promise<T> {
    return abortable<T>(signal, (resolve, reject) => this.add(resolve, reject, tag));
  }

  /** Takes the oldest waiter off the queue, still unanswered; undefined when none waits. */
  shift(): Waiter<T, Tag> | undefined {
    const entry = this.#head;
    if (entry !== undefined) this.#unlink(entry);
    return entry;
  }

  /** Takes every waiter off the queue, oldest first, still unanswered. */
  drain(): Waiter<T, Tag>[] {
    const out: Waiter<T, Tag>[] = [];
    for (let entry = this.shift(); entry !== undefined; entry = this.shift()) out.push(entry);
    return out;
  }

  /** Rejects every waiter with `error`, oldest first, and empties the queue. */
  rejectAll(error: unknown): void {
    for (const waiter of this.drain()) waiter.reject(error);
  }

  /** Withdraws (never answers) every waiter whose tag passes `test`, e.g. those of a dead thread. */
  withdrawIf(test: (tag: Tag | undefined) => boolean): void {
    for (let entry = this.#head; entry !== undefined;) {
      const next = entry.next;
      if (test(entry.tag)) {
        entry.settled = true;
        this.#unlink(entry);
      }
      entry = next;
    }
  }

  #unlink(entry: Entry<T, Tag>): void {
    if (!entry.queued) return;
    entry.queued = false;
    if (entry.prev === undefined) this.#head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.#tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    this.#length--;
  }
}

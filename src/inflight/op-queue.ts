import { AbortError } from '../util/errors.js';
import { QueueClosedError, QueueDepthError, QueueWidthError } from './errors.js';
import { checkPositiveInteger } from '../util/validate.js';
import { WaiterQueue } from '../util/waiters.js';

/** Options for {@link OpQueue}. Both are required: a bounded queue must say its bounds. */
export interface OpQueueOptions {
  /** Most distinct ids queued at once; a new id beyond it throws `ERR_QUEUE_DEPTH`. */
  readonly depth: number;
  /** Most ops in one id's set; one more throws `ERR_QUEUE_WIDTH`. */
  readonly width: number;
}

/** The ops queued under one id, in arrival order. Handed out by {@link OpQueue.dequeue}. */
export interface OpSet<Op, Id = string | number> {
  readonly id: Id;
  readonly ops: readonly Op[];
}

/** A queued set while it can still grow. */
interface MutableSet<Op, Id> {
  readonly id: Id;
  readonly ops: Op[];
}

/**
 * A bounded FIFO of op sets that de-duplicates by id while an id is queued
 * (after Go's `lytics/inflight` OpQueue): `depth` bounds the distinct ids,
 * `width` bounds the ops per id. `enqueue()` never blocks; `dequeue()` waits.
 *
 * A set is handed to a waiting `dequeue()` the moment it is created, so it counts as
 * dequeued from then on: a later op with the same id starts a new set at the tail.
 * After `close()`, `dequeue()` drains what is left and then resolves `undefined`.
 *
 * @example
 * ```ts
 * const q = new OpQueue<Request, string>({ depth: 100, width: 10 });
 * q.enqueue(req.userId, req);
 * for await (const { id, ops } of q) await handleBatch(id, ops);
 * ```
 */
export class OpQueue<Op, Id = string | number> {
  /** Most distinct ids queued at once. */
  readonly #depth: number;
  /** Most ops per id's set. */
  readonly #width: number;
  /** Queued sets by id, for joining an id's set in O(1). */
  readonly #sets = new Map<Id, MutableSet<Op, Id>>();
  /**
   * Queued sets in first-arrival order from `#head` on; slots before it are spent.
   * An array with a moving head rather than the Map's own order, because taking the
   * first entry of a Map again and again walks its deleted slots and goes quadratic.
   */
  #order: (MutableSet<Op, Id> | undefined)[] = [];
  /** Index in `#order` of the oldest queued set. */
  #head = 0;
  /** Pending `dequeue()` calls, oldest first; non-empty only while `#sets` is empty. */
  readonly #waiters = new WaiterQueue<OpSet<Op, Id> | undefined>();
  /** Set by `close()`: no more enqueues; dequeuers drain, then get `undefined`. */
  #closed = false;

  /**
   * @throws {InvalidOptionError} `ERR_INVALID_OPTION` unless `depth` and `width` are positive integers.
   * @example
   * ```ts
   * const q = new OpQueue<Job>({ depth: 1_000, width: 50 });
   * ```
   */
  constructor(options: OpQueueOptions) {
    this.#depth = checkPositiveInteger('depth', options.depth);
    this.#width = checkPositiveInteger('width', options.width);
  }

  /** Number of distinct ids queued. */
  get size(): number {
    return this.#sets.size;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Queues `op` under `id`, never waiting: it joins the queued set for `id` if there is
   * one, otherwise it starts a new set at the tail.
   *
   * @throws {QueueClosedError} `ERR_QUEUE_CLOSED` after `close()`.
   * @throws {QueueWidthError} `ERR_QUEUE_WIDTH` when `id`'s set already holds `width` ops.
   * @throws {QueueDepthError} `ERR_QUEUE_DEPTH` when `id` is new and `depth` ids are queued.
   * @example
   * ```ts
   * q.enqueue('user-1', op);
   * ```
   */
  enqueue(id: Id, op: Op): void {
    if (this.#closed) throw new QueueClosedError();
    const set = this.#sets.get(id);
    if (set !== undefined) {
      if (set.ops.length >= this.#width) throw new QueueWidthError(id, this.#width);
      set.ops.push(op);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve({ id, ops: [op] });
      return;
    }
    if (this.#sets.size >= this.#depth) throw new QueueDepthError(this.#depth);
    const created = { id, ops: [op] };
    this.#sets.set(id, created);
    this.#order.push(created);
  }

  /**
   * Takes the oldest set (by its id's first arrival), waiting while the queue is empty.
   * Waiting callers are served in call order. Resolves `undefined` once the queue is
   * closed and drained.
   *
   * @param options.signal rejects the wait with an `AbortError` (`ABORT_ERR`); a set is
   *   never lost to an aborted wait.
   * @example
   * ```ts
   * for (let set = await q.dequeue(); set; set = await q.dequeue()) handle(set.ops);
   * ```
   */
  dequeue(options: { readonly signal?: AbortSignal } = {}): Promise<OpSet<Op, Id> | undefined> {
    const { signal } = options;
    if (signal?.aborted === true) return Promise.reject(new AbortError(signal.reason));
    const oldest = this.#takeOldest();
    if (oldest !== undefined || this.#closed) return Promise.resolve(oldest);
    return this.#waiters.wait(signal);
  }

  /**
   * Stops new enqueues. Queued sets can still be dequeued; waiting dequeuers (who by
   * definition found the queue empty) all resolve `undefined` now. Idempotent.
   *
   * @example
   * ```ts
   * q.close();
   * for await (const set of q) handle(set); // drains, then ends
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#waiters.drain()) waiter.resolve(undefined);
  }

  /**
   * Yields sets as {@link OpQueue.dequeue} would, ending after `close()` once drained.
   * `break` loses nothing: a set is taken only when the loop asks for the next one, and
   * breaking leaves the queue open with the rest still queued.
   *
   * @example
   * ```ts
   * for await (const { id, ops } of q) {
   *   if (await handle(id, ops) === 'stop') break;
   * }
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<OpSet<Op, Id>, void, undefined> {
    for (;;) {
      const set = await this.dequeue();
      if (set === undefined) return;
      yield set;
    }
  }

  #takeOldest(): OpSet<Op, Id> | undefined {
    const set = this.#order[this.#head];
    if (set === undefined) return undefined;
    this.#order[this.#head] = undefined;
    this.#head += 1;
    if (this.#head === this.#order.length) {
      this.#order = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
    this.#sets.delete(set.id);
    return set;
  }
}

import { PoolClosedError } from '../util/errors.js';
import { ResourceNotAcquiredError } from './errors.js';
import { checkFunction, checkIntegerIn, checkPositiveInteger } from '../util/validate.js';
import { WaiterQueue, type Waiter } from '../util/waiters.js';

/** Options for {@link ResourcePool}. */
export interface ResourcePoolOptions<T> {
  /** Makes a new resource; may be async. A throw or rejection frees the slot again. */
  readonly create: () => T | PromiseLike<T>;
  /**
   * Disposes of a resource the pool no longer keeps; may be async.
   * @default a no-op
   */
  readonly destroy?: (resource: T) => unknown;
  /** Most resources alive at once: idle, lent out, and being created. */
  readonly max: number;
  /**
   * Most idle resources kept; a resource released beyond that is destroyed. 0 to `max`.
   * @default max
   */
  readonly idle?: number;
  /**
   * Called when `destroy` throws or rejects. It may run in a worker thread, so the
   * default only warns.
   * @default `process.emitWarning(error)`
   */
  readonly onDestroyError?: (error: unknown, resource: T) => void;
}

/**
 * A bounded pool of reusable resources (after the pool in *Go in Action*, with a cap):
 * `acquire()` lends an idle resource (most recently released first) or creates one while
 * fewer than `max` are alive, and otherwise waits in FIFO order; `release()` hands the
 * resource straight to the oldest waiter, or keeps it idle up to `idle`, or destroys it.
 *
 * Resources must be distinct values (objects, typically): the pool tracks loans by identity.
 * It uses no main-thread-only API, so it works inside worker threads too.
 *
 * `await using pool = new ResourcePool(...)` closes the pool at scope exit; for a single
 * loan use {@link ResourcePool.use}, which releases (or, on a throw, discards) for you.
 *
 * @example
 * ```ts
 * const pool = new ResourcePool({ create: connect, destroy: (c) => c.end(), max: 8, idle: 2 });
 * const conn = await pool.acquire({ signal: AbortSignal.timeout(1_000) });
 * try { await conn.query('select 1'); } finally { pool.release(conn); }
 * await pool.close();
 * ```
 */
export class ResourcePool<T> {
  /** Factory for new resources. */
  readonly #create: () => T | PromiseLike<T>;
  /** Disposer for resources the pool lets go of. */
  readonly #destroy: (resource: T) => unknown;
  /** Where `destroy` failures go. */
  readonly #onDestroyError: (error: unknown, resource: T) => void;
  /** Cap on live resources. */
  readonly #max: number;
  /** Cap on idle resources. */
  readonly #idleMax: number;
  /** Idle resources; the most recently released is last and is lent first. */
  readonly #idle: T[] = [];
  /** Resources currently lent out, to reject foreign and double releases. */
  readonly #lent = new Set<T>();
  /** Acquirers waiting for a resource or a free slot, oldest first. */
  readonly #waiters = new WaiterQueue<T>();
  /**
   * Acquirers whose resource is being created for them right now. Once one is `settled`
   * (its signal aborted), outcomes for it are routed elsewhere.
   */
  readonly #creating = new Set<Waiter<T>>();
  /** Resources alive or being created: idle + lent + creating. Never above `#max`. */
  #live = 0;
  /** In-flight creates and destroys, so `close()` can wait for them. */
  readonly #inFlight = new Set<Promise<unknown>>();
  /** The promise of the first `close()`; set means closed. */
  #closing: Promise<void> | undefined;

  /**
   * @throws {InvalidOptionError} `ERR_INVALID_OPTION` for a bad option, naming it and the value.
   * @example
   * ```ts
   * const pool = new ResourcePool({ create: () => new Parser(), max: 4 });
   * ```
   */
  constructor(options: ResourcePoolOptions<T>) {
    const { create, destroy, max, idle, onDestroyError } = options;
    checkFunction('create', create);
    if (destroy !== undefined) checkFunction('destroy', destroy);
    if (onDestroyError !== undefined) checkFunction('onDestroyError', onDestroyError);
    checkPositiveInteger('max', max);
    if (idle !== undefined) {
      checkIntegerIn('idle', idle, 0, max, `an integer from 0 to max (${max})`);
    }
    this.#create = create;
    this.#destroy = destroy ?? (() => undefined);
    this.#onDestroyError =
      onDestroyError ??
      ((error) => {
        process.emitWarning(asError(error));
      });
    this.#max = max;
    this.#idleMax = idle ?? max;
  }

  /** Resources alive or being created (idle + lent + creating). */
  get size(): number {
    return this.#live;
  }

  /** Idle resources ready to lend. */
  get idle(): number {
    return this.#idle.length;
  }

  /** Acquirers waiting for a resource. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Lends a resource: an idle one, a new one while fewer than `max` are alive, or the
   * next one released (waiters are served first come, first served).
   *
   * Rejects with `ERR_POOL_CLOSED` when the pool is or becomes closed, with an
   * `AbortError` (`ABORT_ERR`) when `signal` aborts before a resource is handed over,
   * or with the error `create` threw. A resource created for an aborted call is kept.
   *
   * @example
   * ```ts
   * const r = await pool.acquire({ signal });
   * ```
   */
  acquire(options: { readonly signal?: AbortSignal } = {}): Promise<T> {
    const { signal } = options;
    if (this.#closing !== undefined) return Promise.reject(new PoolClosedError());
    const resource = this.#waiters.wait(signal);
    this.#dispatch();
    return resource;
  }

  /**
   * Returns a lent resource: to the oldest waiter, to the idle list (up to `idle`), or
   * to `destroy`. After `close()` it is destroyed.
   *
   * @throws {ResourceNotAcquiredError} `ERR_RESOURCE_NOT_ACQUIRED` if it is not on loan from this pool.
   * @example
   * ```ts
   * pool.release(conn);
   * ```
   */
  release(resource: T): void {
    if (!this.#lent.delete(resource)) throw new ResourceNotAcquiredError();
    this.#put(resource);
  }

  /**
   * Destroys a lent resource instead of returning it (it is broken), freeing its slot.
   *
   * @throws {ResourceNotAcquiredError} `ERR_RESOURCE_NOT_ACQUIRED` if it is not on loan from this pool.
   * @example
   * ```ts
   * conn.on('error', () => pool.discard(conn));
   * ```
   */
  discard(resource: T): void {
    if (!this.#lent.delete(resource)) throw new ResourceNotAcquiredError();
    this.#drop(resource);
    this.#dispatch();
  }

  /**
   * Acquires a resource, runs `fn` with it, and releases it, or discards it if `fn`
   * throws (a resource that saw an error is not trusted again).
   *
   * @example
   * ```ts
   * const rows = await pool.use((conn) => conn.query('select 1'));
   * ```
   */
  async use<R>(
    fn: (resource: T) => R | PromiseLike<R>,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<R> {
    const resource = await this.acquire(options);
    let result: R;
    try {
      result = await fn(resource);
    } catch (error) {
      this.discard(resource);
      throw error;
    }
    this.release(resource);
    return result;
  }

  /**
   * Closes the pool: rejects every waiter with `ERR_POOL_CLOSED`, destroys the idle
   * resources, and from now on destroys each resource as it is released. Resolves once
   * the idle ones and any being created have been destroyed; it does not wait for
   * resources still lent out. Idempotent.
   *
   * @example
   * ```ts
   * await pool.close();
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** `await using pool = new ResourcePool(...)` closes it at scope exit. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    const pending = [...this.#waiters.drain(), ...this.#creating];
    for (const request of pending) request.reject(new PoolClosedError());
    for (const resource of this.#idle.splice(0)) this.#drop(resource);
    // Creates that finish now schedule destroys, so wait until nothing new appears.
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Serves waiters, oldest first, from the idle list or by creating while below `max`. */
  #dispatch(): void {
    while (this.#waiters.length > 0) {
      if (this.#idle.length > 0) {
        const resource = this.#idle.pop() as T;
        this.#lend(this.#waiters.shift() as Waiter<T>, resource);
      } else if (this.#live < this.#max) {
        this.#live += 1;
        this.#createFor(this.#waiters.shift() as Waiter<T>);
      } else {
        return;
      }
    }
  }

  #createFor(request: Waiter<T>): void {
    this.#creating.add(request);
    const creation = new Promise<T>((resolve) => {
      resolve(this.#create());
    }).then(
      (resource) => {
        this.#creating.delete(request);
        if (this.#closing !== undefined) this.#drop(resource);
        else if (request.settled)
          this.#put(resource); // its caller aborted; keep it for others
        else this.#lend(request, resource);
      },
      (error: unknown) => {
        this.#creating.delete(request);
        this.#live -= 1;
        request.reject(error);
        this.#dispatch(); // the freed slot lets the next waiter try
      },
    );
    this.#track(creation);
  }

  #lend(request: Waiter<T>, resource: T): void {
    this.#lent.add(resource);
    request.resolve(resource);
  }

  /** Finds a home for a resource that is no longer lent: a waiter, the idle list, or destroy. */
  #put(resource: T): void {
    const waiter = this.#closing === undefined ? this.#waiters.shift() : undefined;
    if (waiter !== undefined) this.#lend(waiter, resource);
    else if (this.#closing === undefined && this.#idle.length < this.#idleMax) {
      this.#idle.push(resource);
    } else this.#drop(resource);
  }

  /** Destroys a resource and frees its slot. */
  #drop(resource: T): void {
    this.#live -= 1;
    const destruction = new Promise((resolve) => {
      resolve(this.#destroy(resource));
    }).catch((error: unknown) => {
      this.#onDestroyError(error, resource);
    });
    this.#track(destruction);
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.finally(() => {
      this.#inFlight.delete(tracked);
    });
    this.#inFlight.add(tracked);
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Keyed targets inside a task: leases taken through the pool (one message each way),
 * and the shared counters read directly. The thread's {@link Leases} belongs to its
 * runtime, which hands it the pool's answers; `acquire()` and `counts()`, the functions a
 * task imports from `corral/worker`, reach it through {@link serveLeases}.
 */
import { OutsidePoolError } from '../src/util/errors.js';
import { abortable } from '../src/util/abort.js';
import { readCounters } from '../src/protocol/key-counters.js';
import { Lease } from '../src/protocol/lease.js';
import type { FromWorker, KeyMessage, LeaseMessage, Outlet } from '../src/protocol/messages.js';
import { fromWire } from '../src/protocol/wire-error.js';

/** One thread's leases: its requests waiting for the pool, and the keys' shared counters. */
export class Leases {
  readonly #port: Outlet;
  /** The pool's shared counters (replaced when the table grows). */
  #counters: Int32Array | undefined;
  /** Key -> slot in `#counters`. */
  readonly #slots: Map<string, number>;
  /** Lease requests waiting for the pool's answer. */
  readonly #pending = new Map<
    number,
    { key: string; resolve: (l: Lease) => void; reject: (e: Error) => void }
  >();
  #nextReq = 1;

  /** `counters` and `slots` as the pool knew them when it started the thread. */
  constructor(
    port: Outlet,
    counters: Int32Array | undefined,
    slots: Iterable<[string, number]> | undefined,
  ) {
    this.#port = port;
    this.#counters = counters;
    this.#slots = new Map(slots);
  }

  /** See {@link acquire}. */
  acquire(key: string, options?: { signal?: AbortSignal }): Promise<Lease> {
    return abortable<Lease>(options?.signal, (resolve, reject) => {
      const req = this.#nextReq++;
      this.#pending.set(req, { key, resolve, reject });
      this.#post({ type: 'acquire', req, key });
      return () => {
        this.#pending.delete(req);
        this.#post({ type: 'withdraw', req });
      };
    });
  }

  /** See {@link counts}. */
  counts(key: string): { target: number; active: number } | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined || this.#counters === undefined) return undefined;
    return readCounters(this.#counters, slot);
  }

  /** The pool answered a lease request. */
  onLease(message: LeaseMessage): void {
    const request = this.#pending.get(message.req);
    if (request === undefined) {
      // Withdrawn while the grant was on its way: give it straight back.
      if (message.error === undefined) this.#post({ type: 'release', id: message.id });
      return;
    }
    this.#pending.delete(message.req);
    if (message.error !== undefined) {
      const error = fromWire(message.error);
      request.reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    const id = message.id;
    request.resolve(
      new Lease(id, request.key, () => {
        this.#post({ type: 'release', id });
      }),
    );
  }

  /** The pool announced a key's slot. */
  onKey(message: KeyMessage): void {
    if (message.counters !== undefined) this.#counters = message.counters;
    this.#slots.set(message.key, message.slot);
  }

  #post(message: FromWorker): void {
    this.#port.postMessage(message);
  }
}

/** This thread's leases, once its runtime serves them; undefined outside a pool's thread. */
let served: Leases | undefined;

/** Makes `leases` the ones {@link acquire} and {@link counts} use in this thread. */
export function serveLeases(leases: Leases): void {
  served = leases;
}

/**
 * Takes a lease on `key`, counted against the same target as the pool's keyed jobs
 * and main-thread leases. Waits while the key is at its target.
 *
 * @example
 * ```ts
 * export async function sync(row: Row) {
 *   await using lease = await acquire(`db:${row.shard}`);
 *   await write(row);
 * }
 * ```
 */
export function acquire(key: string, options?: { signal?: AbortSignal }): Promise<Lease> {
  if (served !== undefined) return served.acquire(key, options);
  return abortable<Lease>(options?.signal, () => {
    throw new OutsidePoolError('acquire()');
  });
}

/** A key's target and active count (jobs running and leases held), read from shared memory. */
export function counts(key: string): { target: number; active: number } | undefined {
  return served?.counts(key);
}

/**
 * Leases: a unit of a key's target held by code rather than by a job (the Go workpool's
 * Acquire/Release). The main thread asks directly; a worker thread asks over its port
 * and the pool answers. Waiters are served before queued jobs of the same key: they may
 * be tasks holding a thread while they wait, and a thread waiting behind jobs that need
 * threads could deadlock the pool.
 */
import { WaiterQueue } from '../util/waiters.js';
import { Lease } from '../protocol/lease.js';

export { Lease };
import type { KeyState, KeyTable } from './key-table.js';

export class LeaseBroker {
  readonly #table: KeyTable;
  /** Called when a lease gives a unit back, so queued jobs of the key may start. */
  readonly #onFreed: (state: KeyState) => void;
  #nextId = 1;
  /** Waiters per key, oldest first, tagged with the thread that asked (undefined: the main thread). */
  readonly #waiting = new Map<KeyState, WaiterQueue<number>>();
  /** Leases held: id -> key and owner. */
  readonly #held = new Map<number, { state: KeyState; owner: unknown }>();

  constructor(table: KeyTable, onFreed: (state: KeyState) => void) {
    this.#table = table;
    this.#onFreed = onFreed;
  }

  /**
   * Asks for a unit of `state`'s target for `owner`. `grant` is called (maybe at once)
   * with the lease id, or `fail` with an error; the returned function withdraws the request.
   */
  request(
    state: KeyState,
    owner: unknown,
    grant: (id: number) => void,
    fail: (error: unknown) => void,
  ): () => void {
    let queue = this.#waiting.get(state);
    if (queue === undefined) this.#waiting.set(state, (queue = new WaiterQueue()));
    const withdraw = queue.add(grant, fail, owner);
    this.serve(state);
    return withdraw;
  }

  /** Grants waiting requests of a key while it has room. */
  serve(state: KeyState): void {
    if (this.#waiting.size === 0) return; // the common case, on every keyed job's exit
    const queue = this.#waiting.get(state);
    if (queue === undefined) return;
    while (queue.length > 0 && this.#table.hasRoom(state)) {
      const waiter = queue.shift();
      if (waiter === undefined) break;
      this.#table.take(state);
      const id = this.#nextId++;
      this.#held.set(id, { state, owner: waiter.tag });
      waiter.resolve(id);
    }
    if (queue.length === 0) this.#waiting.delete(state);
  }

  /** Live waiters on a key. */
  waiting(state: KeyState): number {
    return this.#waiting.get(state)?.length ?? 0;
  }

  /** Releases a lease; false if it was not held (released already, or never granted). */
  release(id: number): boolean {
    const held = this.#held.get(id);
    if (held === undefined) return false;
    this.#held.delete(id);
    this.#table.give(held.state);
    this.serve(held.state);
    this.#onFreed(held.state);
    return true;
  }

  /** Releases what a thread held and drops what it waited for (it crashed or exited). */
  releaseOwner(owner: unknown): void {
    for (const [id, held] of this.#held) if (held.owner === owner) this.release(id);
    for (const queue of this.#waiting.values()) queue.withdrawIf((tag) => tag === owner);
  }

  /** Fails every waiter (shutdown). */
  failAll(error: Error): void {
    for (const queue of this.#waiting.values()) queue.rejectAll(error);
    this.#waiting.clear();
  }
}

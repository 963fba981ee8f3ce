/**
 * Keyed targets as the engine sees them: the key table, the fair queue and the lease
 * broker, kept consistent with each other. Target semantics (the Go workpool's, strict):
 * raising a target starts waiting work at once; lowering it below `active` revokes
 * nothing, and nothing more of that key starts until `active < target`; 0 pauses the key.
 */
import type { Job } from '../pool/job.js';
import { KeyTable, UNLIMITED, type KeyState } from './key-table.js';
import { KeyedQueue } from './keyed-queue.js';
import { Lease, LeaseBroker } from './leases.js';
import { abortable } from '../util/abort.js';
import { toWire } from '../protocol/wire-error.js';
import type { ThreadHandle } from '../threads/thread.js';

/** A key's numbers, from `pool.counts(key)`. */
export interface KeyCounts {
  /** The key's target (Infinity when unlimited). */
  target: number;
  /** Jobs of the key running and leases held. */
  active: number;
  /** Jobs of the key waiting in the queue. */
  queued: number;
  /** Acquirers waiting for a lease. */
  waiting: number;
}

export class Keyed {
  readonly table: KeyTable;
  readonly queue: KeyedQueue<Job>;
  readonly #leases: LeaseBroker;
  /** Starts whatever room on a key allows (the engine's dispatch). */
  readonly #wake: () => void;

  constructor(table: KeyTable, wake: () => void) {
    this.#wake = wake;
    this.table = table;
    this.queue = new KeyedQueue<Job>(this.table);
    this.#leases = new LeaseBroker(this.table, (state) => {
      this.queue.roomFreed(state);
      this.#wake();
    });
  }

  /** The state of `key`, made on first use: what a job of that key is queued and counted by. */
  stateOf(key: string): KeyState {
    return this.table.get(key);
  }

  /** A job left its thread: its unit of the key's target comes back. */
  give(job: Job): void {
    const state = job.keyState;
    if (state === undefined) return;
    this.table.give(state);
    this.#leases.serve(state);
    this.queue.roomFreed(state);
  }

  setTarget(key: string, target: number): KeyState {
    const state = this.table.get(key);
    this.table.setTarget(state, target);
    this.#leases.serve(state);
    this.queue.roomFreed(state);
    this.#wake();
    return state;
  }

  counts(key: string): KeyCounts {
    if (!this.table.has(key)) {
      const target = this.table.defaultTarget;
      return { target: unlimited(target), active: 0, queued: 0, waiting: 0 };
    }
    const state = this.table.get(key);
    return {
      target: unlimited(this.table.target(state)),
      active: this.table.active(state),
      queued: state.queued,
      waiting: this.#leases.waiting(state),
    };
  }

  /** A lease for the main thread. */
  async acquire(key: string, signal: AbortSignal | undefined): Promise<Lease> {
    const state = this.table.get(key);
    const id = await abortable<number>(signal, (grant, fail) =>
      this.#leases.request(state, undefined, grant, fail),
    );
    return new Lease(id, key, () => this.#leases.release(id));
  }

  /** A thread asked for a lease: answer it over its port. */
  threadAcquire(thread: ThreadHandle<Job>, req: number, key: string): void {
    const call = { answered: false };
    const withdraw = this.#leases.request(
      this.table.get(key),
      thread,
      (id) => {
        call.answered = true;
        thread.leaseDone(req);
        thread.answerLease(req, id, undefined);
      },
      (error) => {
        call.answered = true;
        thread.leaseDone(req);
        thread.answerLease(req, 0, toWire(error));
      },
    );
    if (!call.answered) thread.waitLease(req, withdraw);
  }

  /** A thread gave up waiting for its request `req`. */
  threadWithdraw(thread: ThreadHandle<Job>, req: number): void {
    thread.leaseDone(req)?.();
  }

  threadRelease(id: number): void {
    this.#leases.release(id);
  }

  /** A thread is gone: its leases come back, its requests are dropped. */
  threadGone(thread: ThreadHandle<Job>): void {
    this.#leases.releaseOwner(thread);
  }

  /** Fails every lease waiter (shutdown, or the pool failed). */
  failWaiters(error: Error): void {
    this.#leases.failAll(error);
  }

  /** Queued jobs of paused keys can never start: on shutdown they reject. */
  pausedJobs(): Job[] {
    const out: Job[] = [];
    for (const state of this.table.states()) {
      if (this.table.target(state) !== 0) continue;
      this.queue.forEachOf(state, (job) => out.push(job));
    }
    return out;
  }
}

function unlimited(target: number): number {
  return target >= UNLIMITED ? Number.POSITIVE_INFINITY : target;
}

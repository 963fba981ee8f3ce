/**
 * Per-key concurrency state. Each key's target and active count live in a
 * SharedArrayBuffer (two Int32 slots per key) and change with Atomics, so worker threads
 * read the same numbers the pool decides by. The main thread is the only writer: threads
 * take leases through it (see leases.ts), so a thread that crashes can never leave a
 * count behind that nobody knows how to give back.
 *
 * The table grows (doubling, copied into a new buffer) and never recycles a key's slot:
 * a key keeps its slot and its target for the pool's life.
 */
import { PriorityDeque } from './priority-deque.js';
import { checkInteger, checkNonEmptyString } from '../util/validate.js';
import { ACTIVE, STRIDE, TARGET, UNLIMITED } from '../protocol/key-counters.js';

export { UNLIMITED };

/** What the queue needs of a job (the pool's `Job`; kept abstract so the table does not depend on it). */
export interface QueuedJob {
  readonly settled: boolean;
  /** Higher starts first, within what keyed targets allow (0 when not given). */
  readonly priority: number;
  readonly keyState: KeyState | undefined;
}

/** Main-thread state of one key. */
export interface KeyState {
  readonly key: string;
  readonly slot: number;
  /** Jobs of this key waiting for room and a thread (settled ones are skipped when reached). */
  readonly jobs: PriorityDeque<QueuedJob>;
  /** Unsettled jobs in `jobs`. */
  queued: number;
  /** Whether the key sits in the fairness ring. */
  inRing: boolean;
}

/** Checks a key: a non-empty string. */
export function checkKey(key: unknown, name = 'key'): string {
  return checkNonEmptyString(name, key);
}

/** Checks a target: a non-negative integer, or Infinity for no limit. */
export function checkTarget(target: unknown, name = 'target'): number {
  return Math.min(checkInteger(name, target, 0, true), UNLIMITED);
}

export class KeyTable {
  /** Target and active per slot. Replaced by a larger buffer when full. */
  #counters: Int32Array;
  /** Key -> state. */
  readonly #keys = new Map<string, KeyState>();
  /** Target of keys that were never given one. */
  readonly #defaultTarget: number;
  /** Called with each new key and its slot, and with the new buffer when the table grows. */
  readonly #onNewKey: (key: string, slot: number, counters: Int32Array | undefined) => void;

  constructor(
    defaultTarget: number,
    onNewKey: (key: string, slot: number, counters: Int32Array | undefined) => void,
  ) {
    this.#defaultTarget = defaultTarget;
    this.#onNewKey = onNewKey;
    this.#counters = new Int32Array(new SharedArrayBuffer(64 * STRIDE * 4));
  }

  /** Target of keys that were never given one. */
  get defaultTarget(): number {
    return this.#defaultTarget;
  }

  /** The shared counters, for threads. */
  get counters(): Int32Array {
    return this.#counters;
  }

  /** Every key and its slot, for a thread that starts now. */
  entries(): [string, number][] {
    return [...this.#keys.values()].map((s) => [s.key, s.slot]);
  }

  /** The state of a key, made on first use. */
  get(key: string): KeyState {
    let state = this.#keys.get(key);
    if (state !== undefined) return state;
    const slot = this.#keys.size;
    let grown: Int32Array | undefined;
    if ((slot + 1) * STRIDE > this.#counters.length) {
      grown = new Int32Array(new SharedArrayBuffer(this.#counters.byteLength * 2));
      // Only this thread writes, so a plain copy is consistent.
      grown.set(this.#counters);
      this.#counters = grown;
    }
    Atomics.store(this.#counters, slot * STRIDE + TARGET, this.#defaultTarget);
    state = { key, slot, jobs: new PriorityDeque<QueuedJob>(), queued: 0, inRing: false };
    this.#keys.set(key, state);
    this.#onNewKey(key, slot, grown);
    return state;
  }

  /** Known keys. */
  has(key: string): boolean {
    return this.#keys.has(key);
  }

  states(): IterableIterator<KeyState> {
    return this.#keys.values();
  }

  target(state: KeyState): number {
    return Atomics.load(this.#counters, state.slot * STRIDE + TARGET);
  }

  setTarget(state: KeyState, target: number): void {
    Atomics.store(this.#counters, state.slot * STRIDE + TARGET, target);
  }

  active(state: KeyState): number {
    return Atomics.load(this.#counters, state.slot * STRIDE + ACTIVE);
  }

  /** Whether one more may start. */
  hasRoom(state: KeyState): boolean {
    return this.active(state) < this.target(state);
  }

  /** Takes one unit of the key's target; the caller checked {@link hasRoom}. */
  take(state: KeyState): void {
    Atomics.add(this.#counters, state.slot * STRIDE + ACTIVE, 1);
  }

  /** Gives one unit back. */
  give(state: KeyState): void {
    Atomics.sub(this.#counters, state.slot * STRIDE + ACTIVE, 1);
  }
}

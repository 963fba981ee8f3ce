/**
 * The recent window of `pool.stats()` (`stats().recent`): the same figures as the
 * lifetime ones, over about the last `statsWindow` ms.
 *
 * The window is a ring of {@link SLOTS} + 1 slots of `statsWindow / SLOTS` ms each. A slot
 * keeps the lifetime counters as they were when it began, and the wait and run times
 * recorded while it was the newest. The recent figures are the counters' growth since the
 * oldest slot began, and the times of all slots: so they cover from `statsWindow` to
 * `statsWindow × (1 + 1/SLOTS)` ms (`recent.window` says how much). Counters cost the hot
 * path nothing: only slot changes read them. The ring turns when a clock is read anyway (a
 * sampled job's timing, a thread's results, a snapshot), so an idle pool runs no timer;
 * a count made before the first turn past a slot's edge is counted in the slot before.
 *
 * @module
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Slots per window: the window's edge moves in steps of 1/SLOTS of it. */
export const SLOTS = 12;

/** The lifetime counters a slot starts from. */
export interface Counters {
  completed: number;
  failed: number;
  retried: number;
  crashes: number;
  /** Lifetime busy and thread time (ms), as in `PoolStats`. */
  busyTime: number;
  threadTime: number;
}

interface Slot {
  /** Its number: `floor(now / slotMs)`. */
  index: number;
  /** `performance.now()` when it began (the pool's start, for the first). */
  at: number;
  /** The lifetime counters then. */
  start: Counters;
  /** Wait and run times recorded while it was the newest, in µs. */
  readonly wait: RecordableHistogram;
  readonly run: RecordableHistogram;
}

export class RecentWindow {
  readonly #slotMs: number;
  /** The ring; `#slots[index % length]` is slot `index`. */
  readonly #slots: Slot[];
  /** The newest slot. */
  #head: Slot;

  /** `counters` are the lifetime ones now (all 0 for a new pool). */
  constructor(windowMs: number, now: number, counters: Counters) {
    this.#slotMs = windowMs / SLOTS;
    const index = Math.floor(now / this.#slotMs);
    this.#slots = Array.from({ length: SLOTS + 1 }, () => ({
      index: -Infinity,
      at: now,
      start: counters,
      wait: createHistogram(),
      run: createHistogram(),
    }));
    this.#head = this.#slots[index % this.#slots.length] as Slot;
    this.#head.index = index;
  }

  /** Whether the ring must turn at `now` (then call {@link turn} with the counters). */
  due(now: number): boolean {
    return Math.floor(now / this.#slotMs) !== this.#head.index;
  }

  /**
   * Makes the slot of `now` the newest, dropping those older than the window. Each slot
   * begins at its nominal time (`index × slotMs`), with the counters as they were then:
   * `countersAt(t)`. (The counters moved only by what happened since the newest slot began,
   * and that is counted in it; only thread time goes on by itself.)
   */
  turn(now: number, countersAt: (t: number) => Counters): void {
    const index = Math.floor(now / this.#slotMs);
    const length = this.#slots.length;
    for (let i = Math.max(this.#head.index + 1, index - length + 1); i <= index; i++) {
      const slot = this.#slots[i % length] as Slot;
      slot.index = i;
      slot.at = i * this.#slotMs;
      slot.start = countersAt(slot.at);
      slot.wait.reset();
      slot.run.reset();
    }
    this.#head = this.#slots[index % length] as Slot;
  }

  /** Records a wait or a run (µs) in the newest slot; call {@link due} first. */
  wait(us: number): void {
    this.#head.wait.record(us);
  }
  run(us: number): void {
    this.#head.run.record(us);
  }

  /** The oldest slot still in the window, and the times of all slots merged. */
  read(): { from: Slot; wait: RecordableHistogram; run: RecordableHistogram } {
    let from = this.#head;
    const wait = createHistogram();
    const run = createHistogram();
    for (const slot of this.#slots) {
      if (slot.index < this.#head.index - SLOTS) continue; // never used, or long gone
      if (slot.index < from.index) from = slot;
      wait.add(slot.wait);
      run.add(slot.run);
    }
    return { from, wait, run };
  }
}

/**
 * A FIFO that serves higher `priority` first (FIFO among equals), for the job queue. While
 * every item it was given had priority 0 it is one plain {@link Deque}, so a pool that
 * never uses priorities pays one branch per operation; the first other priority turns it
 * into one deque per level, served from the highest level down (levels are few in
 * practice: a sorted array of them is searched linearly).
 */
import { Deque } from '../util/deque.js';

/** What the deque reads of an item. */
export interface Prioritized {
  /** Higher runs first. */
  readonly priority: number;
}

export class PriorityDeque<T extends Prioritized> {
  /** The items while all have priority 0; afterwards, level 0's deque. */
  readonly #plain = new Deque<T>();
  /** Deques by priority, once an item of another priority came. */
  #levels: Map<number, Deque<T>> | undefined;
  /** The priorities of {@link #levels} that hold items, highest first. */
  #order: number[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  /** Appends an item behind those of its priority. */
  push(item: T): void {
    this.#length++;
    if (this.#levels === undefined && item.priority === 0) this.#plain.push(item);
    else this.#level(item.priority).push(item);
  }

  /** Puts an item before those of its priority (a job given back or retried). */
  unshift(item: T): void {
    this.#length++;
    if (this.#levels === undefined && item.priority === 0) this.#plain.unshift(item);
    else this.#level(item.priority).unshift(item);
  }

  /** Takes the first item of the highest priority. */
  shift(): T | undefined {
    if (this.#levels === undefined) {
      const item = this.#plain.shift();
      if (item !== undefined) this.#length--;
      return item;
    }
    while (this.#order.length > 0) {
      const priority = this.#order[0] as number;
      const level = this.#levels.get(priority) as Deque<T>;
      const item = level.shift();
      if (level.length === 0) this.#dropLevel(priority);
      if (item !== undefined) {
        this.#length--;
        return item;
      }
    }
    return undefined;
  }

  /** The item {@link shift} would take. */
  peek(): T | undefined {
    if (this.#levels === undefined) return this.#plain.peek();
    const top = this.#order[0];
    return top === undefined ? undefined : this.#levels.get(top)?.peek();
  }

  /** Calls `fn` on every item, highest priority first. */
  forEach(fn: (item: T) => void): void {
    if (this.#levels === undefined) {
      this.#plain.forEach(fn);
      return;
    }
    for (const priority of this.#order) this.#levels.get(priority)?.forEach(fn);
  }

  /** Empties it; returns the items, highest priority first. */
  drain(): T[] {
    const out: T[] = [];
    this.forEach((item) => out.push(item));
    this.#plain.drain();
    if (this.#levels !== undefined) {
      for (const level of this.#levels.values()) level.drain();
      this.#levels = new Map([[0, this.#plain]]);
      this.#order = [];
    }
    this.#length = 0;
    return out;
  }

  /** The deque of `priority`, made (and put in order) if needed. */
  #level(priority: number): Deque<T> {
    if (this.#levels === undefined) {
      this.#levels = new Map([[0, this.#plain]]);
      if (this.#plain.length > 0) this.#order.push(0);
    }
    let level = this.#levels.get(priority);
    if (level === undefined) {
      level = priority === 0 ? this.#plain : new Deque<T>();
      this.#levels.set(priority, level);
    }
    if (level.length === 0) {
      let at = 0;
      while (at < this.#order.length && (this.#order[at] as number) > priority) at++;
      if (this.#order[at] !== priority) this.#order.splice(at, 0, priority);
    }
    return level;
  }

  /** A level emptied: it leaves the order (level 0's deque is kept for reuse). */
  #dropLevel(priority: number): void {
    this.#order.shift();
    if (priority !== 0) this.#levels?.delete(priority);
  }
}

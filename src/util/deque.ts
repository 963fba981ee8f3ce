/**
 * A growable ring buffer: O(1) push, shift and unshift, no per-item allocation.
 * The job queue is the pool's hot path; an array emptied with `shift()` is O(n)
 * per call once V8 leaves its fast mode (the peers that do so spend most of their
 * main-thread time there at 200k queued tasks), and we need `unshift` for retries.
 */
export class Deque<T> {
  /** Slots; length is always a power of two. */
  #items: (T | undefined)[];
  /** Index of the first item. */
  #head = 0;
  /** Number of items held. */
  #size = 0;

  constructor(capacity = 16) {
    let n = 16;
    while (n < capacity) n *= 2;
    this.#items = new Array<T | undefined>(n);
  }

  /** Number of items held. */
  get length(): number {
    return this.#size;
  }

  /** Appends at the tail. */
  push(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) & (this.#items.length - 1)] = item;
    this.#size++;
  }

  /** Inserts at the head. */
  unshift(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & (this.#items.length - 1);
    this.#items[this.#head] = item;
    this.#size++;
  }

  /** Removes and returns the head, or undefined when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#size--;
    return item;
  }

  /** The head without removing it. */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head];
  }

  /** Calls `fn` on each item, head first. */
  forEach(fn: (item: T) => void): void {
    for (let i = 0; i < this.#size; i++)
      fn(this.#items[(this.#head + i) & (this.#items.length - 1)] as T);
  }

  /** Removes every item, returning them in order. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    return out;
  }

  #grow(): void {
    const old = this.#items;
    const next = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) & (old.length - 1)];
    this.#items = next;
    this.#head = 0;
  }
}

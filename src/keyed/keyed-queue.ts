/**
 * The job queue, fair across keys. Unkeyed jobs wait in one FIFO; each key's jobs wait
 * in the key's own FIFO. When a thread has room, the keys that have room and waiting
 * jobs are served in turn (a ring), with the unkeyed FIFO as one more member, so a key
 * with a million queued jobs does not hold back a key with one.
 *
 * Priorities (a job's `priority`, higher first) order each FIFO, and across them the ring
 * serves, among the members that may start a job now, one whose next job has the highest
 * priority (in turn among equals): a key at its target holds back its jobs whatever their
 * priority, and lower ones of keys with room run meanwhile. Until a job with a priority
 * other than 0 comes, none of this costs anything (see {@link PriorityDeque}).
 *
 * Aborted jobs stay where they are as tombstones (the caller already counted them out
 * with {@link KeyedQueue.removed}) and are skipped when reached.
 */
import { Deque } from '../util/deque.js';
import { PriorityDeque } from './priority-deque.js';
import type { KeyState, KeyTable, QueuedJob } from './key-table.js';

/** The unkeyed FIFO's place in the ring. */
const UNKEYED = Symbol('unkeyed');
type Member = KeyState | typeof UNKEYED;

/** `J`: the jobs it holds (the pool's `J`). */
export class KeyedQueue<J extends QueuedJob = QueuedJob> {
  readonly #table: KeyTable;
  readonly #unkeyed = new PriorityDeque<J>();
  /** Unsettled jobs in #unkeyed. */
  #unkeyedQueued = 0;
  /** Unsettled keyed jobs, across keys. */
  #keyedQueued = 0;
  /** Members with waiting jobs (and, for keys, room at the time they joined), served in turn. */
  readonly #ring = new Deque<Member>();
  #unkeyedInRing = false;
  /** A job with a priority other than 0 was queued: the ring looks at priorities. */
  #prioritized = false;

  constructor(table: KeyTable) {
    this.#table = table;
  }

  /** Unsettled jobs waiting, keyed or not (those held back by their key's target included). */
  get length(): number {
    return this.#unkeyedQueued + this.#keyedQueued;
  }

  /** Appends a job (`head`: puts it first in its FIFO, for a retry). */
  add(job: J, head = false): void {
    if (job.priority !== 0) this.#prioritized = true;
    const state = job.keyState;
    if (state === undefined) {
      if (head) this.#unkeyed.unshift(job);
      else this.#unkeyed.push(job);
      this.#unkeyedQueued++;
      if (this.#keyedQueued > 0) this.#joinUnkeyed();
      return;
    }
    if (head) state.jobs.unshift(job);
    else state.jobs.push(job);
    state.queued++;
    this.#keyedQueued++;
    if (this.#unkeyedQueued > 0) this.#joinUnkeyed();
    this.roomFreed(state);
  }

  /** A queued job was settled where it stands (aborted, or the pool rejected it). */
  removed(job: J): void {
    const state = job.keyState;
    if (state === undefined) this.#unkeyedQueued--;
    else {
      state.queued--;
      this.#keyedQueued--;
    }
  }

  /** A key may have room again (a job left a thread, a lease was released, its target rose). */
  roomFreed(state: KeyState): void {
    if (!state.inRing && state.queued > 0 && this.#table.hasRoom(state)) {
      state.inRing = true;
      this.#ring.push(state);
    }
  }

  /**
   * Takes the next job that may start now, or undefined. A keyed job's unit of its
   * target is taken here (give it back with `KeyTable.give` when the job leaves its thread).
   */
  next(): J | undefined {
    if (this.#keyedQueued === 0) return this.#shiftUnkeyed();
    const best = this.#prioritized ? this.#bestPriority() : 0;
    for (let n = this.#ring.length; n > 0; n--) {
      const member = this.#ring.shift() as Member;
      if (this.#prioritized && this.#headPriority(member) < best) {
        this.#ring.push(member); // its turn passes to a more urgent job; it keeps its place
        continue;
      }
      if (member === UNKEYED) {
        const job = this.#shiftUnkeyed();
        this.#unkeyedInRing = false;
        if (job === undefined) continue;
        if (this.#unkeyedQueued > 0) this.#joinUnkeyed();
        return job;
      }
      member.inRing = false;
      if (member.queued === 0 || !this.#table.hasRoom(member)) continue;
      let job = member.jobs.shift();
      while (job?.settled === true) job = member.jobs.shift();
      if (job === undefined) continue;
      member.queued--;
      this.#keyedQueued--;
      this.#table.take(member);
      this.roomFreed(member);
      return job as J; // a key's FIFO holds only what add() put there
    }
    return undefined;
  }

  /**
   * Jobs that could start now if threads had room: the unkeyed ones, and each waiting
   * key's up to its room (a paused or full key's jobs wait for the key, not for a thread).
   * O(keys with room and waiting jobs).
   */
  runnable(): number {
    let n = this.#unkeyedQueued;
    if (this.#keyedQueued === 0) return n;
    this.#ring.forEach((member) => {
      if (member === UNKEYED) return;
      const room = this.#table.target(member) - this.#table.active(member);
      n += Math.max(0, Math.min(member.queued, room));
    });
    return n;
  }

  /** Calls `fn` on every unsettled queued job of one key. */
  forEachOf(state: KeyState, fn: (job: J) => void): void {
    state.jobs.forEach((job) => {
      if (!job.settled) fn(job as J);
    });
  }

  /** Calls `fn` on every unsettled queued job. */
  forEach(fn: (job: J) => void): void {
    const live = (job: QueuedJob): void => {
      if (!job.settled) fn(job as J);
    };
    this.#unkeyed.forEach(live);
    for (const state of this.#table.states()) state.jobs.forEach(live);
  }

  /**
   * Empties the queue and returns its unsettled jobs. The caller settles each one and
   * counts it out with {@link removed}, as for any queued job.
   */
  drain(): J[] {
    const out: J[] = [];
    this.forEach((job) => out.push(job));
    this.#unkeyed.drain();
    for (const state of this.#table.states()) {
      state.jobs.drain();
      state.inRing = false;
    }
    this.#ring.drain();
    this.#unkeyedInRing = false;
    return out;
  }

  /**
   * The highest priority of a job that may start now: the next job of the unkeyed FIFO or
   * of a key with room, among the ring's members. O(members). -Infinity if none.
   */
  #bestPriority(): number {
    let best = -Infinity;
    this.#ring.forEach((member) => {
      if (member !== UNKEYED && (member.queued === 0 || !this.#table.hasRoom(member))) return;
      best = Math.max(best, this.#headPriority(member));
    });
    return best;
  }

  /** The priority of a member's next unsettled job (its tombstones ahead of it are dropped). */
  #headPriority(member: Member): number {
    const jobs = member === UNKEYED ? this.#unkeyed : member.jobs;
    let job = jobs.peek();
    while (job?.settled === true) {
      jobs.shift();
      job = jobs.peek();
    }
    return job === undefined ? -Infinity : job.priority;
  }

  #shiftUnkeyed(): J | undefined {
    let job = this.#unkeyed.shift();
    while (job?.settled === true) job = this.#unkeyed.shift();
    if (job !== undefined) this.#unkeyedQueued--;
    return job;
  }

  #joinUnkeyed(): void {
    if (this.#unkeyedInRing) return;
    this.#unkeyedInRing = true;
    this.#ring.push(UNKEYED);
  }
}

/**
 * The jobs one thread holds, with the facts that belong to that thread: each job's
 * sequence number there (its order of receipt) and whether it was asked back by a steal.
 * With the thread's shared progress counters they tell how far the thread got with each.
 * The handle (`thread.held`) adds and deletes jobs as it sends and releases them; the
 * scheduler reads it, and marks a job that leaves unstarted with `forget`.
 */
import type { SendableJob } from '../protocol/codec.js';
import { FINISHED, STARTED } from '../protocol/messages.js';
import { phaseOf, type Phase } from './triage.js';

/**
 * What a thread needs of a job it holds (the pool's `Job`): what goes on the wire, its
 * size in inputs, and whether it settled. A type parameter, not the `Job` class itself,
 * because a job in turn names the thread holding it.
 */
export interface ThreadJob extends SendableJob {
  /** Inputs it carries: 1, or a chunk's length. */
  readonly size: number;
  readonly settled: boolean;
}

/** A job sent to the thread. */
interface Held<J extends ThreadJob> {
  readonly job: J;
  /** Position in the thread's stream of jobs, to tell started jobs from bystanders after a crash. */
  readonly seq: number;
  /** Asked back by a steal; it may or may not have started. */
  stolen: boolean;
}

export class HeldJobs<J extends ThreadJob> {
  /** The thread's progress counters (see `BootData.progress`). */
  readonly #progress: Int32Array;
  /** Jobs sent and not yet answered, by id, in the order they were sent. */
  readonly #held = new Map<number, Held<J>>();
  /** Sequence number of the last job sent (a chunk's inputs take one each). */
  #sent = 0;
  /** Inputs held: the jobs, a chunk counting as its inputs. */
  #units = 0;
  /**
   * Sequence numbers of jobs that left before the thread started them (given back, or
   * cancelled): with {@link #sent} and the STARTED counter they tell how many jobs the
   * thread holds unstarted. Those at or below STARTED no longer matter and are pruned.
   */
  #dropped: number[] = [];

  constructor(progress: Int32Array) {
    this.#progress = progress;
  }

  get size(): number {
    return this.#held.size;
  }

  /** Inputs held (a chunk counts as its inputs). */
  get units(): number {
    return this.#units;
  }

  /** Records jobs just sent, in order. A chunk's `seq` is its first input's. */
  add(jobs: readonly J[]): void {
    for (const job of jobs) {
      this.#held.set(job.id, { job, seq: this.#sent + 1, stolen: false });
      this.#sent += job.size;
      this.#units += job.size;
    }
  }

  delete(job: J): void {
    if (this.#held.delete(job.id)) this.#units -= job.size;
  }

  get(id: number): J | undefined {
    return this.#held.get(id)?.job;
  }

  holds(job: J): boolean {
    return this.#held.get(job.id)?.job === job;
  }

  *jobs(): IterableIterator<J> {
    for (const held of this.#held.values()) yield held.job;
  }

  /**
   * How far the thread got with a job, from the shared counters. (A job given back by a
   * steal whose `Dropped` answer is still in transit when the thread dies is judged by the
   * counters too: at worst it is charged a try it did not use.)
   */
  phase(job: J): Phase {
    const seq = this.#held.get(job.id)?.seq ?? 0;
    const p = this.#progress;
    return phaseOf(seq, Atomics.load(p, STARTED), Atomics.load(p, FINISHED), job.size);
  }

  /** The counters, for a chunk's inputs: `[first input's seq, last started, finished to]`. */
  progressOf(job: J): [number, number, number] {
    const seq = this.#held.get(job.id)?.seq ?? 0;
    const p = this.#progress;
    return [seq, Atomics.load(p, STARTED), Atomics.load(p, FINISHED)];
  }

  /**
   * Jobs held and not started (prefetched), in O(jobs given back meanwhile) rather than
   * O(jobs held). (A job answered `Ok` has started: the thread stores STARTED before it
   * posts the result.)
   */
  prefetched(): number {
    const last = Atomics.load(this.#progress, STARTED);
    let n = this.#sent - last;
    const dropped = this.#dropped;
    for (let i = dropped.length - 1; i >= 0; i--) {
      if ((dropped[i] as number) > last) n--;
      else {
        dropped[i] = dropped[dropped.length - 1] as number;
        dropped.pop();
      }
    }
    return Math.max(0, n);
  }

  /** A job held leaves before the thread started it (see {@link prefetched}). */
  forget(job: J): void {
    const held = this.#held.get(job.id);
    if (held === undefined) return;
    for (let k = 0; k < job.size; k++) this.#dropped.push(held.seq + k);
    if (this.#dropped.length > 64) this.prefetched(); // prunes
  }

  /** Jobs held that the thread has not started (and that are not already asked back). */
  unstarted(): number {
    const last = Atomics.load(this.#progress, STARTED);
    let n = 0;
    for (const held of this.#held.values()) {
      if (held.seq > last && !held.stolen && !held.job.settled) n++;
    }
    return n;
  }

  /** Marks the newest `count` unstarted jobs as asked back. */
  markStolen(count: number): void {
    const last = Atomics.load(this.#progress, STARTED);
    const held = [...this.#held.values()];
    let marked = 0;
    for (let i = held.length - 1; i >= 0 && marked < count; i--) {
      const h = held[i] as Held<J>;
      if (h.seq <= last) break;
      if (h.stolen || h.job.settled) continue;
      h.stolen = true;
      marked++;
    }
  }
}

/**
 * A host's estimate of what one job costs a thread slot, in ms, sent with each result
 * message so that clients size their job messages (see the client's outbox).
 *
 * It must measure the jobs, not the messaging around them: with small messages a host
 * spends much of its time waiting for the next one, and a measure that counted the wait
 * (wall time per job, or CPU time while threads poll for work) would make small messages
 * look costly and keep them small. So it measures each message from the moment its first
 * jobs went to the pool (not from its arrival: it may wait behind other messages) to its
 * last result: `n` jobs on `s` slots take `ceil(n / s)` rounds of one job's cost. The time
 * before the first round starts (the pool's queue, at most the host's lookahead) only adds
 * to a sample. The estimate is the mean of the recent samples, not their least: with jobs
 * of mixed sizes the least is the cost of the smallest jobs (jobs of 1-50 ms would be
 * packed as if they took 1-3 ms each), and a client packs by the mean.
 *
 * A host measures by its local pool's busy time when it can (the threads' own time per job,
 * between the ends of the recent messages): a message's span from hand-over to last result also
 * counts the time its jobs queue on the pool behind jobs handed over earlier and, when a
 * message is handed over in parts, the started marks' round trips in between. With tiny
 * jobs that made the span-based estimate 0.02-6 ms (median 0.08 ms) for jobs whose busy
 * time is about 0.1 µs, and it fed on itself: a higher estimate shortened the host's lookahead (more
 * hand-overs, more marks, longer spans) and made the clients' messages smaller (66 tiny
 * jobs where 256 were meant). The span-based estimate stands until the busy time covers a
 * few jobs, and for a clock given no pool.
 *
 * It does not measure the spacing between a message's first and last results: the pool
 * hands outcomes back in chunks, so a message's results often arrive together and that
 * spacing is near 0 (an estimate near 0 made clients pack 50 to 150 jobs of 1-3 ms in a
 * message, 100-300 ms of work where about 5 ms was meant).
 *
 * @module
 */
import { performance } from 'node:perf_hooks';

/** Samples the estimate is the mean of. */
const WINDOW = 16;
/**
 * Jobs the busy time must cover before it is the estimate: the first messages hold single
 * jobs, and the busy time of one short job of a mixed batch (1 ms of jobs of 1-3 ms) would
 * pack messages of twice their target; until then the span-based estimate, which errs high,
 * stands.
 */
const MIN_BUSY_JOBS = 16;

/** When a message's jobs were handed to the pool and finished. */
export class MessageTimes {
  /** When its first jobs went to the pool (until then, when it arrived). */
  given = performance.now();
  last = -1;
  jobs = 0;
  /** {@link MessageTimes.given} is when its first jobs went to the pool. */
  #handed = false;

  /** Some of the message's jobs go to the pool now (the first call counts). */
  handed(now = performance.now()): void {
    if (this.#handed) return;
    this.#handed = true;
    this.given = now;
  }

  /** One of the message's jobs finished. */
  finished(now = performance.now()): void {
    this.last = now;
    this.jobs++;
  }
}

/** A reading of a pool's lifetime counters: its threads' busy time and its settled jobs. */
export interface BusyReading {
  /** Milliseconds the threads spent running jobs (the pool's `stats().busyTime`). */
  readonly busyTime: number;
  /** Jobs settled (`completed + failed`). */
  readonly jobs: number;
}

export class RunClock {
  /** Thread slots (threads × concurrency). */
  readonly #slots: number;
  /** The pool's busy time and jobs now, if the clock measures by them. */
  readonly #busy: (() => BusyReading) | undefined;
  /** Span-based: the latest samples, oldest first. */
  readonly #samples: number[] = [];
  /** Busy-based: the pool's readings at the ends of the latest messages, oldest first. */
  readonly #readings: BusyReading[] = [];
  /**
   * The estimate, worked out when a message ends (it changes only then), not each time it
   * is read: per hand-over, per result and by the claimer.
   */
  #estimate = 0;

  constructor(slots: number, busy?: () => BusyReading) {
    this.#slots = slots;
    this.#busy = busy;
    if (busy !== undefined) this.#readings.push(busy());
  }

  /**
   * The estimate now, in ms: the mean of the pool's busy time per job between the recent
   * messages' ends, or of the recent span samples; 0 until a message has finished.
   */
  get estimate(): number {
    return this.#estimate;
  }

  /** The estimate as of the latest message's end. */
  #compute(): number {
    const first = this.#readings[0];
    const last = this.#readings[this.#readings.length - 1];
    if (first !== undefined && last !== undefined && last.jobs - first.jobs >= MIN_BUSY_JOBS) {
      // Each interval between two messages' ends weighs the same, as each span sample does:
      // weighed by jobs, a few hundred tiny jobs would outweigh the first slow ones for 16
      // messages after a client switches from tiny jobs to slow ones.
      let sum = 0;
      let intervals = 0;
      for (let i = 1; i < this.#readings.length; i++) {
        const a = this.#readings[i - 1] as BusyReading;
        const b = this.#readings[i] as BusyReading;
        if (b.jobs <= a.jobs) continue;
        sum += (b.busyTime - a.busyTime) / (b.jobs - a.jobs);
        intervals++;
      }
      return sum / intervals;
    }
    return mean(this.#samples);
  }

  /** A message's jobs have all finished. */
  observe(times: MessageTimes): void {
    if (times.jobs === 0) return;
    if (this.#busy !== undefined) {
      // The estimate covers the jobs settled over the last WINDOW messages' ends.
      this.#readings.push(this.#busy());
      if (this.#readings.length > WINDOW + 1) this.#readings.shift();
    }
    const rounds = Math.ceil(times.jobs / this.#slots);
    this.#samples.push((times.last - times.given) / rounds);
    if (this.#samples.length > WINDOW) this.#samples.shift();
    this.#estimate = this.#compute();
  }
}

/** The mean of `values`; 0 for none. */
function mean(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value;
  return values.length === 0 ? 0 : sum / values.length;
}

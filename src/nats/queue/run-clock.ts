/**
 * A host's estimate of what one job costs a thread slot, in ms, sent with each result
 * message so that clients size their job messages (see the client's outbox).
 *
 * It must measure the jobs, not the messaging around them: with small messages a host
 * spends much of its time waiting for the next one, and a measure that counted the wait
 * (wall time per job, or CPU time while threads poll for work) would make small messages
 * look costly and keep them small. So it measures the spacing of a message's results: `n`
 * jobs on `s` slots finish in `ceil(n / s)` rounds, one job's cost apart, and the time
 * before the first round ends (transit, the pool's queue) does not count. A
 * message of one job is measured by its whole time on the pool. Noise (the host's event loop
 * busy with messaging, other messages' jobs in between) only ever adds to a sample, so the
 * estimate is the least of the recent samples.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';

/** Samples the estimate is the least of. */
const WINDOW = 16;

/** When a message's jobs were handed to the pool and finished. */
export class MessageTimes {
  readonly given = performance.now();
  first = -1;
  last = -1;
  jobs = 0;

  /** One of the message's jobs finished. */
  finished(): void {
    const now = performance.now();
    if (this.first < 0) this.first = now;
    this.last = now;
    this.jobs++;
  }
}

export class RunClock {
  /** Thread slots (threads × concurrency). */
  readonly #slots: number;
  /** The latest samples, oldest first. */
  readonly #samples: number[] = [];

  constructor(slots: number) {
    this.#slots = slots;
  }

  /** The estimate now, in ms: the least of the recent samples; 0 until a message has finished. */
  get estimate(): number {
    return this.#samples.length === 0 ? 0 : Math.min(...this.#samples);
  }

  /** A message's jobs have all finished. */
  observe(times: MessageTimes): void {
    if (times.jobs === 0) return;
    const rounds = Math.ceil(times.jobs / this.#slots);
    const sample =
      rounds > 1 ? (times.last - times.first) / (rounds - 1) : times.last - times.given;
    this.#samples.push(sample);
    if (this.#samples.length > WINDOW) this.#samples.shift();
  }
}

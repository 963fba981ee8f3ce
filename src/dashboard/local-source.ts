/**
 * A local pool as a dashboard source: one row (the pool), its `stats()`, and its settled
 * jobs.
 *
 * @module
 */
import type { Pool } from '../index.js';
import { JobBuffer, readingOfJobs, settledJob } from './job-feed.js';
import { TICK_JOBS } from './model.js';
import type { DashboardSource, Reading } from './source.js';

/** The name of the local pool's row and task-stream lanes. */
const NAME = 'local';

export class LocalSource implements DashboardSource {
  readonly title = 'local pool';
  readonly #pool: Pool;
  readonly #jobs = new JobBuffer(TICK_JOBS);
  readonly #unwatch: () => void;

  constructor(pool: Pool) {
    this.#pool = pool;
    this.#unwatch = pool.observe((record) => {
      this.#jobs.push(settledJob(record));
    });
  }

  read(): Promise<Reading> {
    const s = this.#pool.stats();
    const state = this.#pool.state;
    return Promise.resolve({
      hosts: [
        {
          id: NAME,
          name: NAME,
          threads: s.threads,
          running: s.running,
          completed: s.completed,
          failed: s.failed,
          crashes: s.crashes,
          busyTime: s.busyTime,
          threadTime: s.threadTime,
          time: Date.now(),
          state:
            state === 'closed' || state === 'failed'
              ? 'left'
              : state === 'closing'
                ? 'draining'
                : 'serving',
        },
      ],
      totals: { completed: s.completed, failed: s.failed },
      queue: null,
      remaining: s.queued + s.waiting + s.running,
      ...readingOfJobs(NAME, this.#jobs.take()),
    });
  }

  close(): Promise<void> {
    this.#unwatch();
    return Promise.resolve();
  }
}

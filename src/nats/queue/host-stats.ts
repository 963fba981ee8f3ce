/**
 * What a host tells the dashboard (`corral dashboard`): once a second, a snapshot of its
 * pool and the jobs it settled since the last one, on the plain NATS subject
 * `corral.queue.<name>.stats` (nothing is stored: a dashboard that is not listening misses
 * nothing it needs later, as it keeps its own history). A last snapshot with `state:
 * 'closed'` says the host stopped; a host that goes silent was lost.
 *
 * @module
 */
import type { Pool } from '../../index.js';
import { JobBuffer, settledJob, type SettledJob } from '../../dashboard/job-feed.js';
import type { NatsConnection } from '../shared/connection.js';
import { SUBJECT_PREFIX } from './layout.js';

/** A host's state (as `Host.state`; not imported, as the host imports this module). */
export type HostStatsState = 'running' | 'draining' | 'closed' | 'failed';

/** How often a host publishes, in ms. */
export const HOST_STATS_INTERVAL = 1000;
/** Jobs per snapshot at most (the latest): a snapshot stays well under a message's limit. */
const SNAPSHOT_JOBS = 1000;

/** The subject a queue's hosts publish their snapshots on. */
export function hostStatsSubject(queue: string): string {
  return `${SUBJECT_PREFIX}.${queue}.stats`;
}

/** One snapshot of a host. */
export interface HostStatsMessage {
  readonly id: string;
  readonly name: string;
  readonly threads: number;
  readonly state: HostStatsState;
  /** Epoch ms. */
  readonly time: number;
  /** Jobs per job message lately, to estimate the jobs a queue's messages hold. */
  readonly jobsPerMessage: number;
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  readonly retried: number;
  readonly crashes: number;
  readonly busyTime: number;
  readonly threadTime: number;
  /** Jobs settled since the last snapshot (at most 1,000, the latest). */
  readonly jobs: readonly SettledJob[];
}

/** What the host adds to its pool's figures. */
export interface HostFacts {
  readonly id: string;
  readonly name: string;
  readonly state: HostStatsState;
  readonly jobsPerMessage: number;
}

/** Publishes a host's snapshots until stopped. */
export class HostStatsPublisher {
  readonly #nc: NatsConnection;
  readonly #subject: string;
  readonly #pool: Pool;
  readonly #facts: () => HostFacts;
  readonly #jobs = new JobBuffer(SNAPSHOT_JOBS);
  readonly #unwatch: () => void;
  readonly #timer: NodeJS.Timeout;

  constructor(nc: NatsConnection, queue: string, pool: Pool, facts: () => HostFacts) {
    this.#nc = nc;
    this.#subject = hostStatsSubject(queue);
    this.#pool = pool;
    this.#facts = facts;
    this.#unwatch = pool.observe((record) => {
      this.#jobs.push(settledJob(record));
    });
    this.#timer = setInterval(() => {
      this.#publish();
    }, HOST_STATS_INTERVAL);
    this.#timer.unref();
  }

  /** Publishes a last snapshot (saying the host stopped) and stops. */
  stop(): void {
    clearInterval(this.#timer);
    this.#unwatch();
    this.#publish('closed');
  }

  #publish(state?: HostStatsState): void {
    const facts = this.#facts();
    const s = this.#pool.stats();
    const message: HostStatsMessage = {
      ...facts,
      state: state ?? facts.state,
      time: Date.now(),
      threads: s.threads,
      running: s.running,
      completed: s.completed,
      failed: s.failed,
      retried: s.retried,
      crashes: s.crashes,
      busyTime: s.busyTime,
      threadTime: s.threadTime,
      jobs: this.#jobs.take(),
    };
    try {
      this.#nc.publish(this.#subject, JSON.stringify(message));
    } catch {
      // A closed connection: the host is failing, and the dashboard will mark it gone.
    }
  }
}

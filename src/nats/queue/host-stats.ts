/**
 * What a host tells the dashboard (`corral dashboard`): once a second, a snapshot of its
 * pool and the jobs it settled since the last one, on the plain NATS subject
 * `corral.queue.<name>.stats` (nothing is stored: a dashboard that is not listening misses
 * nothing it needs later, as it keeps its own history). A last snapshot with `state:
 * 'closed'` says the host stopped; a host that goes silent was lost.
 *
 * The snapshot's figures are the pool's counters, read without a `stats()` snapshot (whose
 * percentiles cost a host more than a second of its bookkeeping). The jobs are recorded
 * (`pool.observe`, a record per job) only while someone listens: each snapshot is sent with
 * a reply subject, and the server answers one that no subscriber received with a "no
 * responders" status, which stops the recording; a snapshot left unanswered until the next
 * (someone received it), or a dashboard's notice on `corral.queue.<name>.stats.watch` as it
 * starts, resumes it. A connection without "no responders" records all the time.
 *
 * @module
 */
import type { Pool } from '../../index.js';
import { readCounters } from '../../pool/stats.js';
import { JobBuffer, settledJob, type SettledJob } from '../../dashboard/job-feed.js';
import { privateInbox, type NatsConnection } from '../shared/connection.js';
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

/**
 * The subject a dashboard tells a queue's hosts on that it starts watching (an empty
 * message): they record their jobs for its snapshots from then on.
 */
export function hostStatsWatchSubject(queue: string): string {
  return `${hostStatsSubject(queue)}.watch`;
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

/** The status the server answers a message that no subscriber received with. */
const NO_RESPONDERS = 503;

/** Publishes a host's snapshots until stopped. */
export class HostStatsPublisher {
  readonly #nc: NatsConnection;
  readonly #subject: string;
  readonly #pool: Pool;
  readonly #facts: () => HostFacts;
  readonly #jobs = new JobBuffer(SNAPSHOT_JOBS);
  /** Removes the pool listener that records jobs; undefined while none records them. */
  #unobserve: (() => void) | undefined;
  /** Snapshots are sent with a reply subject under it: `<inbox>.<sequence>`. */
  readonly #inbox: string;
  /** The "no responders" answers to snapshots, and the dashboards' notices. */
  readonly #subscriptions: { unsubscribe(): void }[] = [];
  /** Snapshots sent so far: the sequence of the latest. */
  #sent = 0;
  /** The latest snapshot was not answered "no responders" (yet). */
  #heard = false;
  /** The sequence of the latest snapshot sent before a dashboard's notice: older answers are stale. */
  #noticedAt = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(nc: NatsConnection, queue: string, pool: Pool, facts: () => HostFacts) {
    this.#nc = nc;
    this.#subject = hostStatsSubject(queue);
    this.#pool = pool;
    this.#facts = facts;
    this.#inbox = privateInbox(nc);
    // Until the first snapshot tells whether anyone listens, as if someone did.
    this.#record();
    try {
      this.#subscriptions.push(
        nc.subscribe(`${this.#inbox}.*`, {
          callback: (error, answer) => {
            if (error !== null || answer.headers?.code !== NO_RESPONDERS) return;
            const seq = Number(answer.subject.slice(this.#inbox.length + 1));
            if (seq !== this.#sent || seq <= this.#noticedAt) return;
            this.#heard = false;
            this.#unrecord();
          },
        }),
        nc.subscribe(hostStatsWatchSubject(queue), {
          callback: () => {
            this.#noticedAt = this.#sent;
            this.#record();
          },
        }),
      );
    } catch {
      // A closed connection: the host is failing, and the dashboard will mark it gone.
    }
    this.#timer = setInterval(() => {
      this.#publish();
    }, HOST_STATS_INTERVAL);
    this.#timer.unref();
  }

  /** Whether the jobs are being recorded for the snapshots (someone listens, or may). */
  get recording(): boolean {
    return this.#unobserve !== undefined;
  }

  /** Publishes a last snapshot (saying the host stopped) and stops. */
  stop(): void {
    clearInterval(this.#timer);
    this.#publish('closed');
    this.#unrecord();
    for (const subscription of this.#subscriptions) subscription.unsubscribe();
  }

  #record(): void {
    this.#unobserve ??= this.#pool.observe((record) => {
      this.#jobs.push(settledJob(record));
    });
  }

  #unrecord(): void {
    this.#unobserve?.();
    this.#unobserve = undefined;
    this.#jobs.take();
  }

  #publish(state?: HostStatsState): void {
    // The previous snapshot was received by someone: record the jobs for the next ones.
    if (this.#heard) this.#record();
    const facts = this.#facts();
    const c = this.#pool[readCounters]();
    const message: HostStatsMessage = {
      ...facts,
      state: state ?? facts.state,
      time: Date.now(),
      threads: c.threads,
      running: c.running,
      completed: c.completed,
      failed: c.failed,
      retried: c.retried,
      crashes: c.crashes,
      busyTime: c.busyTime,
      threadTime: c.threadTime,
      jobs: this.#jobs.take(),
    };
    try {
      this.#nc.publish(this.#subject, JSON.stringify(message), {
        reply: `${this.#inbox}.${++this.#sent}`,
      });
      this.#heard = true;
    } catch {
      // A closed connection: the host is failing, and the dashboard will mark it gone.
    }
  }
}

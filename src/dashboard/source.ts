/**
 * The seam between what is watched (a local pool, or a queue and its hosts) and the
 * dashboard's history: a source is read once per tick.
 *
 * @module
 */
import type { Failure, JobSpan, QueueRow } from './model.js';

/** A host's (or the local pool's) latest report. */
export interface HostReading {
  readonly id: string;
  readonly name: string;
  readonly threads: number;
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  readonly crashes: number;
  /** Ms the threads spent running jobs, and ms of thread time (as `PoolStats`). */
  readonly busyTime: number;
  readonly threadTime: number;
  /** Epoch ms of the report. */
  readonly time: number;
  /** `left`: its last report said it stopped. */
  readonly state: 'serving' | 'draining' | 'left';
}

/** What a source says at one tick. */
export interface Reading {
  /** Every host heard from (its latest report), gone ones included. */
  readonly hosts: readonly HostReading[];
  /** Jobs completed and failed in all; null to sum the hosts'. */
  readonly totals: { readonly completed: number; readonly failed: number } | null;
  readonly queue: QueueRow | null;
  /** Jobs not done yet (queued or running); null when unknown. */
  readonly remaining: number | null;
  /** Jobs settled since the last reading. */
  readonly jobs: readonly JobSpan[];
  readonly failures: readonly Failure[];
  /** Run times (ms) by task of the jobs settled since the last reading. */
  readonly runTimes: readonly { readonly task: string; readonly ms: number }[];
}

/** What the dashboard watches. */
export interface DashboardSource {
  /** The page's title: the queue's name, or `local pool`. */
  readonly title: string;
  read(): Promise<Reading>;
  /** Stops watching (the pool or connection stays the caller's). */
  close(): Promise<void>;
}

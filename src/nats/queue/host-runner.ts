/**
 * How a host runs one job message: every job goes to the host's local pool, and every
 * outcome becomes a result for the job's client. The message is acked (by the host) only
 * once each of its results is stored in the results stream.
 *
 * What a redelivery costs: a message delivered before (`deliveryCount` > 1) was held by a
 * host that stopped answering, and each of its jobs may have started there. So each earlier
 * delivery counts as one try: a job runs again with the tries it has left, or, with none
 * left, is reported as `ERR_HOST_LOST` without running. A job whose result had already been
 * stored is run (or reported lost) again all the same: its client keeps the first result.
 *
 * @module
 */
import { setMaxListeners } from 'node:events';
import type { JsMsg } from '@nats-io/jetstream';
import type { Pool } from '../../index.js';
import { errorValue, ResultStatus, type WireJob, type WireResult } from './queue-codec.js';
import { HostLostError } from './errors.js';
import type { ResultOwner, ResultSink } from './result-sink.js';
import { MessageTimes, type RunClock } from './run-clock.js';

/** A job message a host holds: received, and not yet acked. */
export class HeldMessage implements ResultOwner {
  /** The latest delivery of the message (a redelivery to the same host replaces it). */
  message: JsMsg;
  readonly clientId: string;
  /** Jobs not yet settled. */
  #open: number;
  /** Results handed to the sink and not yet stored. */
  unstored = 0;
  /** When its jobs finished, to estimate what a job costs. */
  readonly times = new MessageTimes();
  /**
   * Aborts the message's jobs on the pool. One per message, not per job: a signal per tiny
   * job costs more than the job. So a message's jobs stop once its client gave up every
   * one of them still open (as when a stream is aborted, or a message holds one job).
   */
  readonly controller = new AbortController();
  /** Jobs of it on the pool that its client gave up. */
  cancelled = 0;
  /** Its results are all stored: told once. */
  #stored = false;
  /** Told when every job has settled: the threads have room again. */
  readonly #finished: (held: HeldMessage) => void;
  /** Told when every result is stored: the message may be acked. */
  readonly #done: (held: HeldMessage) => void;

  constructor(
    message: JsMsg,
    clientId: string,
    jobs: number,
    finished: (held: HeldMessage) => void,
    done: (held: HeldMessage) => void,
  ) {
    this.message = message;
    this.clientId = clientId;
    this.#open = jobs;
    this.#finished = finished;
    this.#done = done;
    // The pool listens once per job: a message's worth of listeners is expected, not a leak.
    setMaxListeners(0, this.controller.signal);
  }

  /** Jobs not yet settled. */
  get open(): number {
    return this.#open;
  }

  /** One of its jobs settled (its result is on its way to the sink). */
  settled(): void {
    this.unstored++;
    if (--this.#open === 0) this.#finished(this);
  }

  stored(): void {
    this.unstored--;
    this.#maybeDone();
  }

  /** Its jobs will not run here: their first host reported them (see the host's lost check). */
  dropJobs(): void {
    this.#open = 0;
    this.#finished(this);
    this.#maybeDone();
  }

  #maybeDone(): void {
    if (this.#open !== 0 || this.unstored !== 0 || this.#stored) return;
    this.#stored = true;
    this.#done(this);
  }
}

/** Counters of what a host has reported. */
export interface RunnerCounts {
  /** Jobs given to the local pool and not yet settled. */
  running: number;
  /** Results reported that were successes. */
  completed: number;
  /** Results reported that were errors (lost ones included). */
  failed: number;
  /** Jobs reported `ERR_HOST_LOST` without running. */
  lost: number;
}

/** Runs jobs on the local pool and reports them. */
export class JobRunner {
  readonly #pool: Pool;
  readonly #sink: ResultSink;
  /** Measures what a job costs, for the clients' message sizes. */
  readonly #clock: RunClock;
  /** The message of each job on the pool, by client and job id, for cancel notices. */
  readonly #running = new Map<string, Map<number, HeldMessage>>();
  /** Ids of jobs given up by their clients, by client, while on the pool. */
  readonly #cancelled = new Map<string, Set<number>>();
  readonly counts: RunnerCounts = { running: 0, completed: 0, failed: 0, lost: 0 };
  /** Told of every job error, to notice a pool that has failed. */
  readonly #onError: (error: unknown) => void;

  constructor(pool: Pool, sink: ResultSink, clock: RunClock, onError: (error: unknown) => void) {
    this.#pool = pool;
    this.#sink = sink;
    this.#clock = clock;
    this.#onError = onError;
  }

  /**
   * Runs (or reports lost) every job of `held`, a message delivered `deliveries` times.
   * Jobs alike (task, timeout, tries) go to the pool as one `execute`: one stream and one
   * abort listener per message rather than a promise and a listener per job.
   */
  run(held: HeldMessage, jobs: readonly WireJob[], deliveries: number): void {
    const charged = deliveries - 1;
    const redelivered = charged > 0;
    const groups = new Map<string, WireJob[]>();
    let running = this.#running.get(held.clientId);
    for (const job of jobs) {
      if (charged >= job.maxTries) {
        this.counts.lost++;
        this.#report(held, job.id, false, new HostLostError(charged, job.maxTries), redelivered);
        continue;
      }
      if (running === undefined) {
        running = new Map();
        this.#running.set(held.clientId, running);
      }
      running.set(job.id, held);
      this.counts.running++;
      const alike = `${job.task}\0${job.timeout}\0${job.maxTries}`;
      const group = groups.get(alike);
      if (group === undefined) groups.set(alike, [job]);
      else group.push(job);
    }
    for (const group of groups.values()) void this.#runGroup(held, group, charged, redelivered);
  }

  /** A client gave these jobs up: abort them if they are still on the pool. */
  cancel(clientId: string, ids: readonly number[]): void {
    const jobs = this.#running.get(clientId);
    if (jobs === undefined) return;
    let cancelled = this.#cancelled.get(clientId);
    for (const id of ids) {
      const held = jobs.get(id);
      if (held === undefined) continue;
      if (cancelled === undefined) {
        cancelled = new Set();
        this.#cancelled.set(clientId, cancelled);
      }
      if (cancelled.has(id)) continue;
      cancelled.add(id);
      if (++held.cancelled === held.open) {
        held.controller.abort(new Error('the client gave the job up'));
      }
    }
  }

  async #runGroup(
    held: HeldMessage,
    group: readonly WireJob[],
    charged: number,
    redelivered: boolean,
  ): Promise<void> {
    const first = group[0] as WireJob;
    const settled = new Uint8Array(group.length);
    const settle = (index: number, ok: boolean, value: unknown): void => {
      settled[index] = 1;
      this.#settled(held, group[index] as WireJob, ok, value, redelivered);
    };
    try {
      const keyed = group.some((job) => job.key !== undefined);
      const outcomes = this.#pool.execute(
        group.map((job) => job.input),
        {
          task: first.task,
          timeout: first.timeout,
          maxTries: first.maxTries - charged,
          signal: held.controller.signal,
          ...(keyed ? { key: (_: unknown, index: number) => group[index]?.key } : {}),
        },
      );
      for await (const o of outcomes) settle(o.index, o.ok, o.ok ? o.value : o.error);
    } catch (error) {
      // An abort (the client gave these jobs up) ends the stream without their outcomes;
      // so does the pool failing. Either way, each job left gets the error.
      for (let i = 0; i < group.length; i++) if (settled[i] === 0) settle(i, false, error);
    }
  }

  /** A job on the pool settled. */
  #settled(
    held: HeldMessage,
    job: WireJob,
    ok: boolean,
    value: unknown,
    redelivered: boolean,
  ): void {
    this.counts.running--;
    held.times.finished();
    if (held.open === 1) this.#clock.observe(held.times);
    const client = this.#running.get(held.clientId);
    client?.delete(job.id);
    if (client?.size === 0) this.#running.delete(held.clientId);
    const cancelled = this.#cancelled.get(held.clientId);
    if (cancelled?.delete(job.id) === true) {
      held.cancelled--;
      if (cancelled.size === 0) this.#cancelled.delete(held.clientId);
    }
    if (!ok) this.#onError(value);
    this.#report(held, job.id, ok, value, redelivered);
  }

  #report(held: HeldMessage, id: number, ok: boolean, value: unknown, redelivered: boolean): void {
    if (ok) this.counts.completed++;
    else this.counts.failed++;
    held.settled();
    const result: WireResult = ok
      ? { id, status: ResultStatus.Ok, redelivered, value }
      : { id, status: ResultStatus.Error, redelivered, value: errorValue(value) };
    this.#sink.add(held.clientId, held, result, held.open === 0);
  }
}

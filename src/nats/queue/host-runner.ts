/**
 * How a host runs one job message: every job goes to the host's local pool, and every
 * outcome becomes a result for the job's client. The message is acked (by the host) only
 * once each of its results is stored in the results stream.
 *
 * What a redelivery costs: only jobs that had started are charged. Jobs go to the pool
 * only as its thread slots have room (plus a lookahead of up to 15 ms of work per slot, so
 * that a thread goes from job to job while the mark of the next ones is written), and
 * before any goes, the host stores a "started" mark for its message: the tries charged to each of its jobs so far (see
 * {@link StartedMarks}). A host that takes a redelivered message reads the mark: a job
 * charged fewer tries than its `maxTries` runs, its `ctx.tries` counting on from the
 * charged ones; one charged them all is reported `ERR_HOST_LOST` without running; one
 * that never started runs uncharged, even with `maxTries: 1`. A job whose result had
 * been stored runs again all the same (its client keeps the first result).
 *
 * @module
 */
import type { JsMsg } from '@nats-io/jetstream';
import type { Pool } from '../../index.js';
import { runBatch, type Batch } from '../../pool/batch.js';
import { errorValue, ResultStatus, type WireJob, type WireResult } from './queue-codec.js';
import { HostLostError } from './errors.js';
import type { ResultOwner, ResultSink } from './result-sink.js';
import { MessageTimes, type RunClock } from './run-clock.js';

/** A job message a host holds: received, and not yet acked. */
export class HeldMessage implements ResultOwner {
  /** The latest delivery of the message (a redelivery to the same host replaces it). */
  message: JsMsg;
  readonly clientId: string;
  /**
   * Tries charged to each job so far (by its position in the message), this host's starts
   * included: what the message's started mark says.
   */
  readonly charged: number[];
  /** The stream sequence of its latest started mark (0: none); the next is written only over it. */
  markSeq = 0;
  /** Marks are written one after another: each expects the one before. */
  marking: Promise<void> = Promise.resolve();
  /** Jobs not yet settled. */
  #open: number;
  /** Results handed to the sink and not yet stored. */
  unstored = 0;
  /** When its jobs finished, to estimate what a job costs. */
  readonly times = new MessageTimes();
  /**
   * Its jobs' batches on the pool, to abort them: per message, not per job (an abort per
   * tiny job costs more than the job), so a message's jobs stop once its client gave up
   * every one of them still open (as when a stream is aborted, or a message holds one job).
   */
  #batches: Batch[] = [];
  /** Why its jobs were aborted (its client gave them all up); undefined while they were not. */
  #aborted: Error | undefined;
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
    this.charged = new Array<number>(jobs).fill(0);
    this.#open = jobs;
    this.#finished = finished;
    this.#done = done;
  }

  /** Why its jobs were aborted; undefined while they were not. */
  get aborted(): Error | undefined {
    return this.#aborted;
  }

  /** Aborts its jobs: those on the pool now, and any handed over later (see {@link onPool}). */
  abort(reason: Error): void {
    if (this.#aborted !== undefined) return;
    this.#aborted = reason;
    for (const batch of this.#batches) batch.cancel(reason);
    this.#batches = [];
  }

  /** Some of its jobs went to the pool as `batch`. */
  onPool(batch: Batch): void {
    if (this.#aborted !== undefined) {
      batch.cancel(this.#aborted);
      return;
    }
    if (batch.open === 0) return;
    // Those settled are let go as the list grows: a long message goes over in many parts.
    if (this.#batches.length >= 8) this.#batches = this.#batches.filter((b) => b.open > 0);
    this.#batches.push(batch);
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

/**
 * Stores a message's started mark (its `charged` array) over its latest one; resolves once
 * it is stored, and to false if another host wrote one since (it took the message over).
 */
export type StartedMarks = (held: HeldMessage) => Promise<boolean>;

/**
 * Work queued on the pool ahead of each slot, in ms of a thread's work: a thread goes from
 * one job straight to the next while the started mark of the jobs after them is being
 * stored (the mark is written ahead, never waited for between jobs), and tiny jobs are
 * handed over (and marked) many at a time. Small enough that a lost host is charged for
 * little more than what its threads ran. Jobs of up to this long have at least one queued
 * per slot; longer jobs go one per free slot, and wait for their mark.
 */
const LOOKAHEAD_MS = 15;
/**
 * Jobs queued ahead of the pool's slots, at most: two messages of tiny jobs (the clients
 * pack up to 256), so that the next message goes to the pool whole while the one before
 * runs, with one mark.
 */
const MAX_LOOKAHEAD = 512;
/**
 * The low watermark, in ms of a thread's work queued per slot: with every thread busy, jobs
 * are handed over only once less than this is queued, and then up to the lookahead, so that
 * one hand-over (one started mark, one batch, one message to each thread) covers several
 * short jobs rather than one per settlement. It must stay above a mark's round trip, since the
 * queued jobs (and the job just started) are what the threads run while the next mark is
 * written. A third of the lookahead: on a thread, what is queued when a hand-over starts
 * plus the job that has just started is at least 5 ms of work (less only for tiny jobs,
 * whose lookahead is capped at {@link MAX_LOOKAHEAD} jobs), where a mark took
 * 0.4-0.7 ms (median) and 2-4 ms (p90) on 2 cores loaded 4 to 6 deep. Jobs of 5 ms or more
 * go once nothing is queued behind the running one (up to three of 5 ms in one mark, as
 * the lookahead allows); of 2 ms, five at once while two are still queued.
 */
const LOW_WATERMARK_MS = LOOKAHEAD_MS / 3;

/** A job waiting for room on the pool. */
interface Waiting {
  readonly held: HeldMessage;
  readonly job: WireJob;
  /** Its position in the message. */
  readonly at: number;
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
  /** Started marks that could not be stored (their jobs failed with the error). */
  markFailures: number;
}

/** Runs jobs on the local pool as it has room, marking them started first, and reports them. */
export class JobRunner {
  readonly #pool: Pool;
  readonly #sink: ResultSink;
  /** Measures what a job costs, for the clients' message sizes and the lookahead. */
  readonly #clock: RunClock;
  /** Thread slots of the pool (threads x concurrency). */
  readonly #slots: number;
  readonly #mark: StartedMarks;
  readonly #takenOver: (held: HeldMessage) => void;
  /** The message of each job taken and not settled, by client and job id, for cancel notices. */
  readonly #running = new Map<string, Map<number, HeldMessage>>();
  /** Ids of jobs given up by their clients, by client, while taken. */
  readonly #cancelled = new Map<string, Set<number>>();
  /** Jobs waiting for room on the pool, oldest first from {@link JobRunner.#head}. */
  #waiting: Waiting[] = [];
  #head = 0;
  /** Jobs on the pool or being marked started. */
  #busy = 0;
  /** A pump is scheduled for the next turn. */
  #pumpScheduled = false;
  readonly counts: RunnerCounts = { running: 0, completed: 0, failed: 0, lost: 0, markFailures: 0 };
  /** Told of every job error, to notice a pool that has failed. */
  readonly #onError: (error: unknown) => void;

  constructor(init: {
    pool: Pool;
    sink: ResultSink;
    clock: RunClock;
    slots: number;
    mark: StartedMarks;
    /** Another host took the message over: its jobs not started here must not start. */
    takenOver: (held: HeldMessage) => void;
    onError: (error: unknown) => void;
  }) {
    this.#takenOver = init.takenOver;
    this.#pool = init.pool;
    this.#sink = init.sink;
    this.#clock = init.clock;
    this.#slots = init.slots;
    this.#mark = init.mark;
    this.#onError = init.onError;
  }

  /**
   * Runs (or reports lost) every job of `held`, whose `charged` says the tries each job was
   * charged by earlier deliveries.
   */
  run(held: HeldMessage, jobs: readonly WireJob[]): void {
    let running = this.#running.get(held.clientId);
    for (let at = 0; at < jobs.length; at++) {
      const job = jobs[at] as WireJob;
      const charged = held.charged[at] ?? 0;
      if (charged >= job.maxTries) {
        this.counts.lost++;
        this.#report(held, job.id, false, new HostLostError(charged, job.maxTries), true);
        continue;
      }
      if (running === undefined) {
        running = new Map();
        this.#running.set(held.clientId, running);
      }
      running.set(job.id, held);
      this.counts.running++;
      this.#waiting.push({ held, job, at });
    }
    this.#pump();
  }

  /** A client gave these jobs up: abort them if they are still taken. */
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
      if (++held.cancelled === held.open) held.abort(new Error('the client gave the job up'));
    }
  }

  /** Jobs queued on the pool ahead of its slots, at most (for the claimer's limit). */
  get lookahead(): number {
    return this.#ahead();
  }

  /** Jobs queued on the pool ahead of its slots, at most. */
  #ahead(): number {
    const perJob = this.#clock.estimate;
    if (!(perJob > 0) || perJob > LOOKAHEAD_MS) return 0;
    return Math.min(MAX_LOOKAHEAD, this.#slots * Math.floor(LOOKAHEAD_MS / perJob));
  }

  /**
   * With every thread busy, jobs are handed over only while fewer than this are queued (see
   * {@link LOW_WATERMARK_MS}); at most half the lookahead, so that a hand-over covers at least
   * half of it where the lookahead is capped in jobs (tiny jobs); 0 with no lookahead.
   */
  #low(ahead: number): number {
    if (ahead === 0) return 0;
    return Math.min((this.#slots * LOW_WATERMARK_MS) / this.#clock.estimate, ahead / 2);
  }

  /** Pumps once the current turn's settlements are all in: one hand-over (and mark) for them. */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /** Hands waiting jobs to the pool as it has room: marked started first, per message. */
  #pump(): void {
    const ahead = this.#ahead();
    let room = this.#slots + ahead - this.#busy;
    if (room <= 0 || this.#head === this.#waiting.length) return;
    // Every thread busy: wait for the low watermark, then fill up to the lookahead in one go.
    if (this.#busy - this.#slots >= this.#low(ahead)) return;
    const byMessage = new Map<HeldMessage, Waiting[]>();
    while (room > 0 && this.#head < this.#waiting.length) {
      const w = this.#waiting[this.#head++] as Waiting;
      room--;
      this.#busy++;
      const list = byMessage.get(w.held);
      if (list === undefined) byMessage.set(w.held, [w]);
      else list.push(w);
    }
    if (this.#head === this.#waiting.length) {
      this.#waiting = [];
      this.#head = 0;
    } else if (this.#head > 4096) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    for (const [held, list] of byMessage) void this.#start(held, list);
  }

  /** Marks `list` started (one mark for the message), then runs it on the pool. */
  async #start(held: HeldMessage, list: readonly Waiting[]): Promise<void> {
    const before = list.map((w) => held.charged[w.at] ?? 0);
    const aborted = held.aborted;
    if (aborted !== undefined) {
      // Given up by its client while waiting: it never starts, nor is it charged.
      for (const w of list) this.#settled(held, w.job, false, aborted, false);
      return;
    }
    for (const w of list) held.charged[w.at] = (held.charged[w.at] ?? 0) + 1;
    let ours: boolean;
    try {
      const marked = held.marking.then(() => this.#mark(held));
      held.marking = marked.then(
        () => undefined,
        () => undefined,
      );
      ours = await marked;
    } catch (error) {
      // Not marked: it must not start (a lost host's jobs would be taken for never started).
      this.counts.markFailures++;
      list.forEach((w, k) => (held.charged[w.at] = before[k] as number));
      for (const w of list) this.#settled(held, w.job, false, error, false);
      return;
    }
    if (!ours) {
      // Another host runs them now: they report nothing here, and take no room.
      for (const w of list) this.#dropped(held, w.job);
      this.#takenOver(held);
      return;
    }
    held.times.handed();
    // Usually one group: a message's jobs are most often of one task and options.
    const groups: { first: WireJob; jobs: WireJob[]; charged: number }[] = [];
    list.forEach((w, k) => {
      const job = w.job;
      const charged = before[k] as number;
      const group = groups.find(
        (g) =>
          g.charged === charged &&
          g.first.task === job.task &&
          g.first.timeout === job.timeout &&
          g.first.maxTries === job.maxTries,
      );
      if (group === undefined) groups.push({ first: job, jobs: [job], charged });
      else group.jobs.push(job);
    });
    for (const group of groups) this.#runGroup(held, group.jobs, group.charged);
  }

  /**
   * Jobs alike (task, timeout, tries, tries used) go to the pool as one batch: the jobs are
   * the host's own (no stream, nor a promise or abort listener per job), and each outcome is
   * reported as it settles.
   */
  #runGroup(held: HeldMessage, group: readonly WireJob[], charged: number): void {
    const first = group[0] as WireJob;
    const settled = new Uint8Array(group.length);
    const redelivered = charged > 0;
    const settle = (index: number, ok: boolean, value: unknown): void => {
      if (settled[index] === 1) return;
      settled[index] = 1;
      this.#settled(held, group[index] as WireJob, ok, value, redelivered);
    };
    const inputs = new Array<unknown>(group.length);
    let keyed = false;
    let traced = false;
    for (let i = 0; i < group.length; i++) {
      const job = group[i] as WireJob;
      inputs[i] = job.input;
      keyed ||= job.key !== undefined;
      traced ||= job.traceparent !== undefined;
    }
    try {
      const batch = this.#pool[runBatch](
        inputs,
        {
          task: first.task,
          timeout: first.timeout,
          maxTries: first.maxTries,
          triesUsed: charged,
          key: keyed ? (index) => group[index]?.key : undefined,
          traceparent: traced ? (index) => group[index]?.traceparent : undefined,
        },
        settle,
      );
      held.onPool(batch);
    } catch (error) {
      // Options no job could have (a job message not made by a client of this version):
      // each job of the group gets the error.
      for (let i = 0; i < group.length; i++) settle(i, false, error);
    }
  }

  /** A taken job settled (on the pool, or before it got there). */
  #settled(
    held: HeldMessage,
    job: WireJob,
    ok: boolean,
    value: unknown,
    redelivered: boolean,
  ): void {
    this.counts.running--;
    this.#busy--;
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
    this.#schedulePump();
  }

  /** A taken job that will not run here, nor be reported from here. */
  #dropped(held: HeldMessage, job: WireJob): void {
    this.counts.running--;
    this.#busy--;
    const client = this.#running.get(held.clientId);
    client?.delete(job.id);
    if (client?.size === 0) this.#running.delete(held.clientId);
    this.#schedulePump();
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

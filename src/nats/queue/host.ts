/**
 * A host: a local `Pool` of a task module serving a queue (started by `serve()`). It claims
 * job messages as its threads have room, runs them, stores their results, then acks them;
 * while it holds a message it renews the claim (in-progress acks) every third of the ack
 * wait.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { jetstream, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { Pool } from '../../index.js';
import { readBusy } from '../../pool/stats.js';
import type { NatsConnection } from '../shared/connection.js';
import { AckConfirmer } from './ack-confirmer.js';
import { Claimer } from './claimer.js';
import { decodeCancel, decodeJobs, FRAMING_RESERVE, type WireJob } from './queue-codec.js';
import { sleep } from '../shared/backoff.js';
import { QueueConnectionClosedError } from './errors.js';
import { HeldMessage, JobRunner } from './host-runner.js';
import { HostStatsPublisher } from './host-stats.js';
import {
  ensureQueue,
  isMissing,
  isWrongLastSequence,
  type QueueLayout,
  type ResolvedQueueConfig,
} from './layout.js';
import { PresenceWriter, type HostPresence } from './presence.js';
import { DurablePublisher } from './publisher.js';
import { ResultSink } from './result-sink.js';
import { RunClock } from './run-clock.js';

/** Where a host is in its life. */
export type HostState = 'running' | 'draining' | 'closed' | 'failed';

/** A snapshot of a host, from {@link Host.stats}. */
export interface HostStats {
  readonly state: HostState;
  /** Job messages held (claimed and not yet acked). */
  readonly held: number;
  /** Jobs on the local pool. */
  readonly running: number;
  /** Successes reported. */
  readonly completed: number;
  /** Errors reported (lost jobs included). */
  readonly failed: number;
  /** Jobs reported `ERR_HOST_LOST` without running. */
  readonly lost: number;
  /** Job messages taken that had been delivered before (to a host that was lost). */
  readonly redelivered: number;
  /** Presence writes that failed (the host may be missing from `corral queue info`). */
  readonly presenceFailures: number;
  /** Acks sent again because the server did not answer the first (a server restart). */
  readonly ackRetries: number;
}

/** What {@link serve} hands a new host. */
export interface HostInit {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly layout: QueueLayout;
  readonly pool: Pool;
  readonly tasks: readonly string[];
  readonly ackWait: number;
  /** Used to make the queue again if it is removed while the host serves it. */
  readonly config: ResolvedQueueConfig;
  readonly name: string;
  readonly threads: number;
  readonly slots: number;
  readonly consumer: Awaited<ReturnType<ReturnType<typeof jetstream>['consumers']['get']>>;
}

/** A running host. Made by {@link serve}. */
export class Host {
  /** Unique per host, in message ids and presence. */
  readonly id = randomBytes(8).toString('hex');
  readonly #init: HostInit;
  #state: HostState = 'running';
  /** Held messages by stream sequence. */
  readonly #held = new Map<number, HeldMessage>();
  readonly #claimer: Claimer;
  readonly #runner: JobRunner;
  readonly #sink: ResultSink;
  readonly #publisher: DurablePublisher;
  readonly #presence: PresenceWriter;
  /** Snapshots for the dashboard, once a second. */
  readonly #hostStats: HostStatsPublisher;
  readonly #clock: RunClock;
  readonly #keepAlive: NodeJS.Timeout;
  readonly #cancels: { unsubscribe(): void };
  /** The connection's status events, watched for reconnections. */
  readonly #statuses: AsyncIterable<{ type: string }>;
  #redelivered = 0;
  /** Started marks written: each gets the next message id. */
  #marks = 0;
  /** Confirms every ack: a message stays held (its claim renewed) until its ack is answered. */
  readonly #acks: AckConfirmer;
  /** Wakes {@link Host.drain} when the last held message is acked. */
  #emptied: (() => void) | undefined;
  readonly #closed: Promise<void>;
  #resolveClosed: () => void = () => undefined;
  #rejectClosed: (error: unknown) => void = () => undefined;
  #draining: Promise<void> | undefined;
  readonly #started = Date.now();

  constructor(init: HostInit) {
    this.#init = init;
    this.#closed = new Promise((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    });
    this.#closed.catch(() => undefined);
    const js = jetstream(init.nc);
    this.#publisher = new DurablePublisher(init.nc);
    this.#clock = new RunClock(init.slots, () => init.pool[readBusy]());
    this.#acks = new AckConfirmer(init.nc, Math.max(1000, Math.floor(init.ackWait / 3)));
    const limit = init.nc.info?.max_payload ?? 1024 * 1024;
    this.#sink = new ResultSink({
      publisher: this.#publisher,
      subject: (clientId) => init.layout.resultsSubject(clientId),
      hostId: this.id,
      maxBytes: Math.min(limit - FRAMING_RESERVE, 256 * 1024),
      limit: limit - FRAMING_RESERVE,
      runMs: () => this.#clock.estimate,
      slots: init.slots,
      onFailed: (error) => {
        this.#fail(error);
      },
    });
    this.#runner = new JobRunner({
      pool: init.pool,
      sink: this.#sink,
      clock: this.#clock,
      slots: init.slots,
      mark: (held) => this.#mark(held),
      takenOver: (held) => {
        this.#letGo(held);
      },
      onError: (error) => {
        // A pool that failed (its threads cannot start) would fail every job it is given.
        if (init.pool.state === 'failed') this.#fail(error);
      },
    });
    this.#presence = new PresenceWriter(
      js,
      init.layout,
      this.id,
      () => this.#describe(),
      () => ensureQueue(init.jsm, init.layout, init.config),
    );
    this.#presence.start();
    this.#hostStats = new HostStatsPublisher(init.nc, init.layout.queue, init.pool, () => ({
      id: this.id,
      name: init.name,
      state: this.#state,
      jobsPerMessage: this.#claimer.jobsPerMessage,
    }));
    this.#cancels = init.nc.subscribe(init.layout.cancelSubject, {
      callback: (_error, message) => {
        const notice = decodeCancel(message.data);
        if (notice !== undefined) this.#runner.cancel(notice.clientId, notice.ids);
      },
    });
    this.#keepAlive = setInterval(
      () => {
        this.#renew();
      },
      Math.max(250, Math.floor(init.ackWait / 3)),
    );
    this.#statuses = init.nc.status();
    void this.#watch();
    this.#claimer = new Claimer(
      init.consumer,
      init.slots,
      (message) => {
        this.#take(message);
      },
      (error) => {
        // Someone removed the queue's consumer (or stream): put it back, then pull again.
        if (isMissing(error))
          void ensureQueue(init.jsm, init.layout, init.config).catch(() => undefined);
      },
      () => this.#runner.lookahead,
    );
  }

  /** `running`, `draining`, `closed` or `failed`. */
  get state(): HostState {
    return this.#state;
  }

  /** The module's tasks. */
  get tasks(): readonly string[] {
    return this.#init.tasks;
  }

  /** The local pool that runs the host's jobs (for its `stats()`, `observe()`, metrics). */
  get pool(): Pool {
    return this.#init.pool;
  }

  /** Counters of the host. */
  stats(): HostStats {
    const c = this.#runner.counts;
    return {
      state: this.#state,
      held: this.#held.size,
      running: c.running,
      completed: c.completed,
      failed: c.failed,
      lost: c.lost,
      redelivered: this.#redelivered,
      presenceFailures: this.#presence.failures,
      ackRetries: this.#acks.retries,
    };
  }

  /** Resolves when the host has drained and stopped; rejects if it failed (connection closed). */
  closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Stops taking jobs, finishes and reports the ones it holds (none of them runs again
   * elsewhere), then shuts its pool down. Resolves when done. Idempotent.
   */
  drain(): Promise<void> {
    this.#draining ??= this.#drain();
    return this.#draining;
  }

  async #drain(): Promise<void> {
    if (this.#state !== 'running') return this.#closed;
    this.#state = 'draining';
    this.#presence.write();
    try {
      await this.#claimer.stop();
      if (this.#held.size > 0) await new Promise<void>((resolve) => (this.#emptied = resolve));
      await this.#sink.idle();
      await this.#init.nc.flush().catch(() => undefined);
    } finally {
      await this.#stop();
    }
    if (this.#stillDraining()) {
      this.#state = 'closed';
      this.#resolveClosed();
    }
    return this.#closed;
  }

  /** Read afresh: the host may have failed while draining. */
  #stillDraining(): boolean {
    return this.#state === 'draining';
  }

  /** Releases everything the host holds open (but the connection, which is the caller's). */
  async #stop(): Promise<void> {
    clearInterval(this.#keepAlive);
    // The connection outlives the host: stop listening to it (QueuedIterator's stop()).
    (this.#statuses as { stop?: () => void }).stop?.();
    this.#cancels.unsubscribe();
    this.#hostStats.stop();
    await this.#presence.stop(this.#init.jsm, this.#init.layout.hostsStream);
    await this.#init.pool.shutdown();
    // Jobs of a message let go to another host (it took the message over) may have run to
    // the end during the pool's shutdown: their results are stored before the publisher
    // closes, or a drain would fail on them. (A failed host closed the publisher already.)
    await this.#sink.idle();
    this.#publisher.close(new Error('the host has stopped'));
  }

  #fail(error: unknown): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    this.#state = 'failed';
    this.#rejectClosed(error);
    clearInterval(this.#keepAlive);
    const reason = error instanceof Error ? error : new Error(String(error));
    this.#publisher.close(reason);
    this.#acks.stop(reason);
    void this.#claimer.stop();
    // Held messages are not acked: the queue delivers them to other hosts after the ack wait.
    void this.#stop().catch(() => undefined);
    this.#emptied?.();
  }

  /** Fails the host if its connection closes; renews every claim as soon as it reconnects. */
  async #watch(): Promise<void> {
    const { nc } = this.#init;
    void nc.closed().then((error) => {
      this.#fail(new QueueConnectionClosedError(error === undefined ? {} : { cause: error }));
    });
    for await (const status of this.#statuses) {
      if (status.type === 'reconnect') {
        this.#renew();
        this.#acks.reconnected();
      }
    }
  }

  /** In-progress acks for every held message: the claims last another ack wait. */
  #renew(): void {
    for (const held of this.#held.values()) held.message.working();
  }

  #take(message: JsMsg): void {
    if (this.#state === 'failed') return;
    const seq = message.seq;
    const known = this.#held.get(seq);
    if (known !== undefined) {
      // Our own claim lapsed (a disconnection) and came back to us: keep running it once.
      known.message = message;
      message.working();
      return;
    }
    let batch;
    try {
      batch = decodeJobs(message.data);
    } catch {
      // Not a job message this version can read: no client to report to, and no host could run it.
      message.term();
      return;
    }
    const held = new HeldMessage(
      message,
      batch.clientId,
      batch.jobs.length,
      (h) => {
        this.#release(h);
      },
      (h) => {
        this.#acked(seq, h);
      },
    );
    this.#held.set(seq, held);
    this.#claimer.holding(seq, batch.jobs.length);
    const deliveries = message.info.deliveryCount;
    if (batch.jobs.length === 0) held.dropJobs();
    else if (deliveries === 1) this.#runner.run(held, batch.jobs);
    else {
      this.#redelivered++;
      void this.#resume(seq, held, batch.jobs);
    }
  }

  /**
   * A redelivered message: what its started mark says was charged decides what runs (see
   * host-runner). A mark that cannot be read leaves the message to its ack wait.
   */
  async #resume(seq: number, held: HeldMessage, jobs: readonly WireJob[]): Promise<void> {
    const { jsm, layout } = this.#init;
    let mark;
    for (let attempt = 0; ; attempt++) {
      try {
        mark = await jsm.streams.getMessage(layout.startedStream, {
          last_by_subj: layout.startedSubject(seq),
        });
        break;
      } catch (error) {
        if (attempt >= 3 || this.#state === 'failed') {
          this.#letGo(held);
          return;
        }
        if (isMissing(error)) await ensureQueue(jsm, layout, this.#init.config).catch(() => 0);
        await sleep(250);
      }
    }
    if (mark !== null) {
      held.markSeq = mark.seq;
      const charged = decodeCharged(mark.data);
      for (let i = 0; i < held.charged.length; i++) held.charged[i] = charged[i] ?? 0;
    }
    if (jobs.some((job, i) => (held.charged[i] ?? 0) >= job.maxTries)) {
      await this.#checkLost(seq, held, jobs);
    } else if (this.#state !== 'failed') this.#runner.run(held, jobs);
  }

  /** Writes `held`'s started mark over its latest; false if another host wrote one since. */
  async #mark(held: HeldMessage): Promise<boolean> {
    const seq = held.message.seq;
    try {
      const ack = await this.#publisher.publish(
        this.#init.layout.startedSubject(seq),
        encodeCharged(held.charged),
        `${this.id}.s.${++this.#marks}`,
        held.markSeq,
      );
      held.markSeq = ack.seq;
      return true;
    } catch (error) {
      if (isWrongLastSequence(error)) return false;
      throw error;
    }
  }

  /**
   * Another host took `held` over (or its mark cannot be read): this host stops renewing it
   * and never acks it; jobs of it still running here report as usual (the client keeps the
   * first result of each job).
   */
  #letGo(held: HeldMessage): void {
    this.#forget(held.message.seq, held);
  }

  /**
   * Some jobs of a redelivered message have no tries left: they would be reported lost. But
   * the host that held it may be alive and merely cut off for a while (a server restart):
   * then it reports them and acks the message late, and JetStream removes it from the
   * work-queue stream. So wait one ack wait (renewing the claim), and report only if the
   * message is still there; if it is gone, its jobs were reported by their first host.
   */
  async #checkLost(seq: number, held: HeldMessage, jobs: readonly WireJob[]): Promise<void> {
    await sleep(this.#init.ackWait);
    let present = true;
    try {
      present =
        (await this.#init.jsm.streams.getMessage(this.#init.layout.jobsStream, { seq })) !== null;
    } catch {
      // Cannot tell: report them, as if it were there.
    }
    if (this.#state === 'failed') return;
    if (present) this.#runner.run(held, jobs);
    else held.dropJobs();
  }

  /**
   * A held message's jobs are done: the threads have room for another message, which is
   * pulled while this one's results are being stored (it stays held until acked).
   */
  #release(held: HeldMessage): void {
    this.#claimer.finished(held.message.seq);
  }

  /**
   * Every result of a held message is stored: ack it. It stays held, its claim renewed,
   * until the server confirms the ack (see {@link AckConfirmer}); then there is room.
   */
  #acked(seq: number, held: HeldMessage): void {
    if (this.#held.get(seq) !== held) return;
    this.#claimer.finished(seq);
    this.#acks.confirm(held.message).then(
      () => {
        this.#forget(seq, held);
      },
      () => undefined, // stopped: the host failed, the message goes back after the ack wait
    );
  }

  /** `held` is done with here (its ack confirmed, or let go): its room is given back. */
  #forget(seq: number, held: HeldMessage): void {
    if (this.#held.get(seq) !== held) return;
    this.#held.delete(seq);
    this.#claimer.released(seq);
    if (this.#held.size === 0) {
      const emptied = this.#emptied;
      this.#emptied = undefined;
      emptied?.();
    }
  }

  /** The host's presence record. */
  #describe(): HostPresence {
    const c = this.#runner.counts;
    return {
      id: this.id,
      name: this.#init.name,
      threads: this.#init.threads,
      tasks: this.#init.tasks,
      started: this.#started,
      updated: Date.now(),
      reported: c.completed + c.failed,
      held: this.#held.size,
      draining: this.#state !== 'running',
    };
  }
}

/** A started mark as stored: the tries charged to each job of the message, in order. */
function encodeCharged(charged: readonly number[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(charged));
}

/** A started mark read back; one this version cannot read charges nothing. */
function decodeCharged(data: Uint8Array): number[] {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(data));
    if (Array.isArray(value)) return value.map((n) => (typeof n === 'number' ? n : 0));
  } catch {
    // fall through
  }
  return [];
}

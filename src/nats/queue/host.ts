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
import type { NatsConnection } from '../governor-stream.js';
import { Claimer } from './claimer.js';
import { decodeCancel, decodeJobs, FRAMING_RESERVE, type WireJob } from './codec.js';
import { sleep } from '../backoff.js';
import { QueueConnectionClosedError } from './errors.js';
import { HeldMessage, JobRunner } from './host-runner.js';
import { HostStatsPublisher } from './host-stats.js';
import { ensureQueue, isMissing, type QueueLayout, type ResolvedQueueConfig } from './layout.js';
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
}

/**
 * Messages with jobs to run a host holds beyond those its thread slots are busy with: one
 * ready while the others run, so that no thread waits for a pull, and few that a lost host
 * had not started.
 */
const SPARE_MESSAGES = 1;

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
  /**
   * Jobs per message lately (a moving average): a message of many small jobs keeps every
   * slot busy by itself, one of a single job only one slot; the claim is sized by it.
   */
  #jobsPerMessage = 1;
  /** Acks confirmed one by one while draining. */
  readonly #acking = new Set<Promise<unknown>>();
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
    this.#publisher = new DurablePublisher(js, init.nc);
    this.#clock = new RunClock(init.slots);
    const limit = init.nc.info?.max_payload ?? 1024 * 1024;
    this.#sink = new ResultSink({
      publisher: this.#publisher,
      subject: (clientId) => init.layout.resultsSubject(clientId),
      hostId: this.id,
      maxBytes: Math.min(limit - FRAMING_RESERVE, 256 * 1024),
      limit: limit - FRAMING_RESERVE,
      runMs: () => this.#clock.estimate,
      onFailed: (error) => {
        this.#fail(error);
      },
    });
    this.#runner = new JobRunner(init.pool, this.#sink, this.#clock, (error) => {
      // A pool that failed (its threads cannot start) would fail every job it is given.
      if (init.pool.state === 'failed') this.#fail(error);
    });
    this.#presence = new PresenceWriter(js, init.layout, this.id, () => this.#describe());
    this.#presence.start();
    this.#hostStats = new HostStatsPublisher(init.nc, init.layout.queue, init.pool, () => ({
      id: this.id,
      name: init.name,
      state: this.#state,
      jobsPerMessage: this.#jobsPerMessage,
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
      () => Math.ceil(init.slots / this.#jobsPerMessage) + SPARE_MESSAGES,
      (message) => {
        this.#take(message);
      },
      (error) => {
        // Someone removed the queue's consumer (or stream): put it back, then pull again.
        if (isMissing(error))
          void ensureQueue(init.jsm, init.layout, init.config).catch(() => undefined);
      },
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
      while (this.#acking.size > 0) await Promise.all([...this.#acking]);
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
  }

  #fail(error: unknown): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    this.#state = 'failed';
    this.#rejectClosed(error);
    clearInterval(this.#keepAlive);
    this.#publisher.close(error instanceof Error ? error : new Error(String(error)));
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
      if (status.type === 'reconnect') this.#renew();
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
      this.#claimer.dropped();
      return;
    }
    let batch;
    try {
      batch = decodeJobs(message.data);
    } catch {
      // Not a job message this version can read: no client to report to, and no host could run it.
      message.term();
      this.#claimer.dropped();
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
    this.#jobsPerMessage = 0.8 * this.#jobsPerMessage + 0.2 * Math.max(1, batch.jobs.length);
    const deliveries = message.info.deliveryCount;
    if (deliveries > 1) this.#redelivered++;
    if (batch.jobs.length === 0) this.#acked(seq, held);
    else if (batch.jobs.some((job) => deliveries - 1 >= job.maxTries)) {
      void this.#checkLost(seq, held, batch.jobs, deliveries);
    } else this.#runner.run(held, batch.jobs, deliveries);
  }

  /**
   * Some jobs of a redelivered message have no tries left: they would be reported lost. But
   * the host that held it may be alive and merely cut off for a while (a server restart):
   * then it reports them and acks the message late, and JetStream removes it from the
   * work-queue stream. So wait one ack wait (renewing the claim), and report only if the
   * message is still there; if it is gone, its jobs were reported by their first host.
   */
  async #checkLost(
    seq: number,
    held: HeldMessage,
    jobs: readonly WireJob[],
    deliveries: number,
  ): Promise<void> {
    await sleep(this.#init.ackWait);
    let present = true;
    try {
      present =
        (await this.#init.jsm.streams.getMessage(this.#init.layout.jobsStream, { seq })) !== null;
    } catch {
      // Cannot tell: report them, as if it were there.
    }
    if (this.#state === 'failed') return;
    if (present) this.#runner.run(held, jobs, deliveries);
    else {
      held.open = 0;
      this.#acked(seq, held);
    }
  }

  /**
   * A held message's jobs are done: the threads have room for another message, which is
   * pulled while this one's results are being stored (it stays held until acked).
   */
  #release(held: HeldMessage): void {
    if (held.released) return;
    held.released = true;
    this.#claimer.finished();
  }

  /** Every result of a held message is stored: ack it, and make room for another. */
  #acked(seq: number, held: HeldMessage): void {
    if (this.#held.get(seq) !== held) return;
    this.#held.delete(seq);
    if (this.#state === 'running') held.message.ack();
    else {
      // Draining: the host may exit right after, so each ack is confirmed before it does.
      const acking = held.message
        .ackAck({ timeout: 5000 })
        .catch(() => held.message.ackAck({ timeout: 5000 }))
        .catch(() => undefined)
        .finally(() => this.#acking.delete(acking));
      this.#acking.add(acking);
    }
    this.#release(held);
    this.#claimer.acked();
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

/**
 * The engine of a `RemotePool`: jobs out through the outbox, results in through the
 * client's own durable consumer on the results stream, each job settled exactly once.
 *
 * Results are acked only after the jobs they settle have been settled, in batches (see
 * result-acks.ts), so a client whose connection drops and comes back reads on where it
 * stopped (the consumer is durable), and a result read twice (delivered again before its
 * ack, or stored twice after a job's redelivery) finds no job and is dropped.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  jetstream,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { AbortError, CorralError, PoolClosedError } from '../../index.js';
import { sleep } from '../shared/backoff.js';
import type { NatsConnection } from '../shared/connection.js';
import { decodeResults, FRAMING_RESERVE, ResultStatus } from './queue-codec.js';
import { QueueConnectionClosedError, QueuePublishError } from './errors.js';
import {
  clientConsumerConfig,
  ensureQueue,
  isMissing,
  type QueueLayout,
  type ResolvedQueueConfig,
} from './layout.js';
import { HostSlots } from './host-slots.js';
import { Outbox } from './job-outbox.js';
import { ResultAcks } from './result-acks.js';
import { DurablePublisher } from './publisher.js';
import type { RemoteJob, RemoteJobOwner } from './remote-job.js';
import { fromWire, type WireError } from './queue-wire-error.js';

/** Results pulled at once by the client's consumer. */
const RESULT_BATCH = 256;
/** Bytes a message of several jobs may have, at most. */
const MESSAGE_BYTES = 256 * 1024;
/** Pause before reading results again after the consumer failed, in ms. */
const RESUBSCRIBE_DELAY = 250;
/** Results acked wait this long, at most, to be purged from the stream together, in ms. */
const PURGE_DELAY = 2000;

/** A snapshot of a client, from `remotePool.stats()`. */
export interface RemotePoolStats {
  /** Jobs accepted and not yet published to the queue. */
  queued: number;
  /** Jobs published and not yet settled (waiting for a host, running, or reporting). */
  running: number;
  /** Jobs that resolved. */
  completed: number;
  /** Jobs that rejected (aborted and timed out ones included). */
  failed: number;
  /** Jobs run again after the host running them was lost. */
  retried: number;
  /** Results dropped because their job had already settled (redeliveries, given-up jobs). */
  duplicates: number;
}

export type ClientState = 'running' | 'closing' | 'closed';

export class QueueClient {
  /** Unique per client: its results subject and consumer carry it. */
  readonly id = randomBytes(8).toString('hex');
  readonly #layout: QueueLayout;
  readonly #js: JetStreamClient;
  #jsm: Promise<JetStreamManager> | undefined;
  readonly #publisher: DurablePublisher;
  readonly #outbox: Outbox;
  /** The thread slots serving the queue, for the outbox's message sizes. */
  readonly #slots: HostSlots;
  /** Jobs not yet settled, by id. */
  readonly #pending = new Map<number, RemoteJob>();
  #nextId = 1;
  #state: ClientState = 'running';
  /** Why every job fails from now on (setup failed, connection closed), if it does. */
  #failure: Error | undefined;
  readonly #ready: Promise<void>;
  /** The results being read; stopped on close. */
  #results: ConsumerMessages | undefined;
  /** Generation of the results consumer read now (see {@link QueueLayout.clientConsumer}). */
  #generation = 0;
  /** Acks what was read; made once the results stream's retention is known. */
  #acks: ResultAcks | undefined;
  /** A delivery was missed: the results consumer is to be remade before reading on. */
  #missed = false;
  /** Purges the results acked; set while one is scheduled. */
  #purgeTimer: NodeJS.Timeout | undefined;
  /** The stream sequence up to which this client's results were purged. */
  #purged = 0;
  /** When the results stream the consumer reads was made (its `created`, as last seen). */
  #streamCreated: string | undefined;
  /** The shutdown under way. */
  #closing: Promise<void> | undefined;
  /** Wakes a graceful shutdown when the last job settles. */
  #idle: (() => void) | undefined;
  readonly #counts = { completed: 0, failed: 0, retried: 0, duplicates: 0 };

  constructor(nc: NatsConnection, layout: QueueLayout, config: ResolvedQueueConfig) {
    this.#layout = layout;
    this.#js = jetstream(nc);
    this.#publisher = new DurablePublisher(nc);
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    const limit = maxPayload - FRAMING_RESERVE;
    this.#slots = new HostSlots(() => this.#manager(), layout);
    this.#outbox = new Outbox({
      nc,
      publisher: this.#publisher,
      manager: () => this.#manager(),
      stream: layout.jobsStream,
      subject: layout.jobsSubject,
      cancelSubject: layout.cancelSubject,
      clientId: this.id,
      maxBytes: Math.min(limit, MESSAGE_BYTES),
      limit,
      reject: (job, error) => {
        // Too large or not serialisable (typed already), or JetStream would not store it.
        const typed =
          error instanceof CorralError
            ? error
            : new QueuePublishError(layout.queue, { cause: error });
        this.#settle(job, false, this.#failure ?? typed);
      },
      slots: () => this.#slots.value,
    });
    this.#ready = this.#setup(config);
    this.#ready.catch(() => undefined);
    void nc.closed().then((error) => {
      this.#fail(new QueueConnectionClosedError(error === undefined ? {} : { cause: error }));
    });
  }

  get state(): ClientState {
    return this.#state;
  }

  /** Resolves once the queue is set up and results are read; rejects if that failed. */
  ready(): Promise<void> {
    return this.#ready;
  }

  nextId(): number {
    return this.#nextId++;
  }

  /** Sends a job (or settles it at once: closed, too large, not serialisable, aborted). */
  submit(job: RemoteJob): void {
    const refusal = this.#refusal(job);
    if (refusal !== undefined) {
      job.settle(false, refusal);
      this.#counts.failed++;
      return;
    }
    this.#pending.set(job.id, job);
    job.watch((error) => {
      this.abandon(job, error);
    });
    this.#outbox.add(job);
  }

  #refusal(job: RemoteJob): Error | undefined {
    if (this.#failure !== undefined) return this.#failure;
    if (this.#state !== 'running') return new PoolClosedError();
    if (job.signal?.aborted === true) return new AbortError(job.signal.reason);
    return undefined;
  }

  /** Gives a job up: it settles now with `error`; the queue is told as far as it can be. */
  abandon(job: RemoteJob, error: unknown): void {
    if (job.settled) return;
    this.#settle(job, false, error);
    this.#outbox.abandon(job);
  }

  /** Gives up every unsettled job of `owner` (a stream that was aborted or left). */
  abandonOwned(owner: RemoteJobOwner, error: unknown): void {
    for (const job of [...this.#pending.values()]) if (job.ownedBy(owner)) this.abandon(job, error);
  }

  stats(): RemotePoolStats {
    const queued = this.#outbox.queued;
    return {
      queued,
      running: Math.max(0, this.#pending.size - queued),
      ...this.#counts,
    };
  }

  /** Graceful: waits for every job to settle. Forced: fails them all at once. Then cleans up. */
  shutdown(force: boolean): Promise<void> {
    if (this.#state === 'running') this.#state = 'closing';
    if (force) {
      const error = new PoolClosedError('the pool was shut down by force');
      for (const job of [...this.#pending.values()]) this.abandon(job, error);
    }
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#ready.catch(() => undefined);
    if (this.#pending.size > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    this.#state = 'closed';
    this.#acks?.stop();
    clearTimeout(this.#purgeTimer);
    this.#results?.stop();
    this.#publisher.close(new PoolClosedError());
    if (this.#failure === undefined) await this.#removeConsumer();
  }

  #settle(job: RemoteJob, ok: boolean, value: unknown): void {
    if (!job.settle(ok, value)) return;
    this.#pending.delete(job.id);
    if (ok) this.#counts.completed++;
    else this.#counts.failed++;
    if (this.#pending.size === 0 && this.#idle !== undefined) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }

  /** Every job fails with `error` from now on. */
  #fail(error: Error): void {
    if (this.#failure !== undefined || this.#state === 'closed') return;
    this.#failure = error;
    this.#acks?.stop();
    clearTimeout(this.#purgeTimer);
    this.#publisher.close(error);
    for (const job of [...this.#pending.values()]) this.#settle(job, false, error);
  }

  #manager(): Promise<JetStreamManager> {
    this.#jsm ??= this.#js.jetstreamManager(false);
    return this.#jsm;
  }

  async #setup(config: ResolvedQueueConfig): Promise<void> {
    try {
      const jsm = await this.#manager();
      const { resultsAckAll } = await ensureQueue(jsm, this.#layout, config);
      this.#acks = new ResultAcks(resultsAckAll, this.#consumerName(), () => {
        this.#schedulePurge();
      });
      await this.#addConsumer(jsm, config.resultTtl);
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    // Read while the first jobs are answered: their messages are sized by it from the estimate on.
    this.#slots.refresh();
    this.#outbox.open();
    void this.#read(config.resultTtl);
  }

  #consumerName(generation = this.#generation): string {
    return this.#layout.clientConsumer(this.id, generation);
  }

  async #addConsumer(
    jsm: JetStreamManager,
    resultTtl: number,
    generation = this.#generation,
  ): Promise<void> {
    const acks = this.#acks as ResultAcks;
    // A consumer made again after the last ack starts after it, unless the stream itself
    // was made again since (its creation time changed): then it numbers from 1 anew, and
    // starting after the old sequence would skip results nobody read.
    const { created } = await jsm.streams.info(this.#layout.resultsStream);
    if (this.#streamCreated !== undefined && created !== this.#streamCreated) {
      acks.streamRemade();
      this.#purged = 0;
    }
    this.#streamCreated = created;
    await jsm.consumers.add(
      this.#layout.resultsStream,
      clientConsumerConfig(this.#layout, this.id, {
        resultTtl,
        ackAll: acks.ackAll,
        generation,
        // Everything up to it was read and acked: a new consumer need not deliver it again.
        after: acks.acked,
      }),
    );
  }

  /** Purges the results acked, soon: an ack-all removes none from the stream. */
  #schedulePurge(): void {
    this.#purgeTimer ??= setTimeout(() => {
      this.#purgeTimer = undefined;
      void this.#purge();
    }, PURGE_DELAY).unref();
  }

  async #purge(): Promise<void> {
    const upTo = (this.#acks as ResultAcks).acked;
    if (upTo <= this.#purged || !this.#reading()) return;
    try {
      const jsm = await this.#manager();
      await jsm.streams.purge(this.#layout.resultsStream, {
        filter: this.#layout.resultsSubject(this.id),
        seq: upTo + 1,
      });
      this.#purged = upTo;
    } catch {
      // Tried again after the next ack; left behind, they expire with the result TTL.
    }
  }

  /**
   * Reads results until closed; makes the consumer again if the server lost it, and a new
   * one if a delivery was missed.
   */
  async #read(resultTtl: number): Promise<void> {
    const acks = this.#acks as ResultAcks;
    while (this.#reading()) {
      let failed = false;
      try {
        if (this.#missed) {
          await this.#remakeConsumer(resultTtl);
          this.#missed = false;
        }
        const name = this.#consumerName();
        const consumer = await this.#js.consumers.get(this.#layout.resultsStream, name);
        const messages = await consumer.consume({
          max_messages: RESULT_BATCH,
          // End (and make it again, below) rather than wait forever for a consumer that is gone.
          abort_on_missing_resource: true,
          // A callback, not an async iterator: no promise per result.
          callback: (message) => {
            this.#receive(message);
            if (!acks.read(message)) {
              this.#missed = true;
              messages.stop();
            }
          },
        });
        this.#results = messages;
        const end = await messages.closed();
        if (end instanceof Error) throw end;
      } catch (error) {
        failed = true;
        if (isMissing(error)) {
          // Deleted (idle past the result TTL, or a store lost): made again, from what is still there.
          const made = this.#addConsumer(await this.#manager(), resultTtl);
          if (await made.then(() => true).catch(() => false)) acks.reset(this.#consumerName());
        }
      }
      if (this.#reading() && (failed || !this.#missed)) await sleep(RESUBSCRIBE_DELAY);
    }
  }

  /**
   * Reads on from a new consumer, which delivers again every result not acked (the one
   * missed among them), then deletes the old one.
   */
  async #remakeConsumer(resultTtl: number): Promise<void> {
    const jsm = await this.#manager();
    const old = this.#consumerName();
    await this.#addConsumer(jsm, resultTtl, this.#generation + 1);
    this.#generation++;
    (this.#acks as ResultAcks).reset(this.#consumerName());
    await jsm.consumers.delete(this.#layout.resultsStream, old).catch(() => undefined);
  }

  /** Whether results are still wanted (read afresh: TypeScript keeps what it saw before an await). */
  #reading(): boolean {
    return this.#state !== 'closed' && this.#failure === undefined;
  }

  #receive(message: JsMsg): void {
    let batch;
    try {
      batch = decodeResults(message.data);
    } catch {
      return; // not a result message this version reads: nothing in it is ours to settle
    }
    this.#outbox.observe(batch.runMs);
    for (const result of batch.results) {
      const job = this.#pending.get(result.id);
      if (job === undefined) {
        this.#counts.duplicates++;
        continue;
      }
      const ok = result.status === ResultStatus.Ok;
      const value = ok ? result.value : fromWire(result.value as WireError);
      if (result.redelivered && (ok || codeOf(value) !== 'ERR_HOST_LOST')) {
        this.#counts.retried++;
      }
      this.#outbox.answered(job);
      this.#settle(job, ok, value);
    }
  }

  async #removeConsumer(): Promise<void> {
    try {
      const jsm = await this.#manager();
      await jsm.consumers.delete(this.#layout.resultsStream, this.#consumerName());
      // Results of jobs given up (late or duplicate ones) would otherwise wait out their TTL.
      await jsm.streams.purge(this.#layout.resultsStream, {
        filter: this.#layout.resultsSubject(this.id),
      });
    } catch {
      // Left behind, they expire with the result TTL.
    }
  }
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null
    ? (error as { code?: unknown }).code
    : undefined;
}

/**
 * A client's outgoing jobs: packed into job messages and published durably (a message id
 * per message, retried with the same id after a timeout). A message holds as many jobs as
 * make its target of a thread's work (see {@link jobsPerMessage}: from 5 ms near a batch's
 * end up to 100 ms while much waits, by the thread slots serving the queue), from the hosts' own estimate of a job's cost that
 * comes back with every result: tiny jobs travel hundreds to a message, long ones one by
 * one, so that a message's claim stays short and a host that dies puts little in doubt.
 * Bytes bound a message too.
 *
 * Jobs the client gives up (timeout, abort, forced shutdown) are withdrawn as far as the
 * queue allows: one not yet published is never sent; a message all of whose jobs were
 * given up before any result is deleted from the stream (a host that has not taken it
 * never will); and hosts are told the ids, so that one running them aborts them.
 *
 * @module
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '../shared/connection.js';
import { DataCloneError } from '../../index.js';
import { encodeCancel, encodeJobs, pack, type WireJob } from './queue-codec.js';
import { PayloadTooLargeError } from './errors.js';
import type { DurablePublisher } from './publisher.js';
import { jobsPerMessage } from './message-size.js';
import { OutMessage, type RemoteJob } from './remote-job.js';

/**
 * Until the hosts' first estimate arrives, jobs go one per message, and only this many
 * messages go before it for {@link PROBE_MS}: tiny jobs are answered within that and then
 * travel hundreds to a message; slower ones (or no host yet) go on one per message.
 */
const PROBE_MESSAGES = 8;
const PROBE_MS = 100;
/** Job messages being published at once, at most. */
const MAX_PUBLISHING = 64;
/**
 * Job messages sent that no host has answered yet, at most. Jobs beyond wait in the outbox,
 * where they are packed by the latest estimate (all sent at once, a window of jobs would go
 * at the size of the first guess). It bounds a client's jobs in flight only for jobs that
 * travel one to a message: a cluster of more than about 100 thread slots busy with jobs of
 * many ms each would want it larger.
 */
const MAX_UNANSWERED = 256;

export interface OutboxInit {
  readonly nc: NatsConnection;
  readonly publisher: DurablePublisher;
  readonly manager: () => Promise<JetStreamManager>;
  readonly stream: string;
  readonly subject: string;
  readonly cancelSubject: string;
  readonly clientId: string;
  /** Bytes one message of several jobs may have, at most. */
  readonly maxBytes: number;
  /** Bytes a message of one job may have, at most: larger, the job fails `ERR_PAYLOAD_TOO_LARGE`. */
  readonly limit: number;
  /** Fails a job that cannot be sent (too large, not serialisable, publish failed for good). */
  readonly reject: (job: RemoteJob, error: unknown) => void;
  /** Thread slots serving the queue, as last read (undefined: not known yet). */
  readonly slots: () => number | undefined;
}

export class Outbox {
  readonly #init: OutboxInit;
  /** Jobs waiting to be published, from {@link Outbox.#head} on; settled ones are skipped. */
  #queue: RemoteJob[] = [];
  #head = 0;
  /** Publishing may start (the queue is set up). */
  #open = false;
  /** A flush is scheduled. */
  #scheduled = false;
  #publishing = 0;
  /** Messages sent (or being sent) that no host has answered and that still have jobs open. */
  #unanswered = 0;
  /** Message ids used: each message gets the next. */
  #sent = 0;
  /**
   * The hosts' latest estimate of a job's cost, in ms; undefined while probing (see
   * {@link PROBE_MESSAGES}), 0 if the probe ended without one (jobs go one by one).
   */
  #perJobMs: number | undefined;
  /** Messages sent while probing. */
  #probes = 0;
  /** Ends the probe if no estimate came. */
  #probeTimer: NodeJS.Timeout | undefined;
  /** Bytes per job in recent messages, to size the next by bytes too. */
  #bytesPerJob = 64;
  /** Ids given up since the last cancel notice. */
  #cancelled: number[] = [];

  constructor(init: OutboxInit) {
    this.#init = init;
  }

  /** Jobs waiting to be published (settled ones among them until they are skipped). */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** The queue is set up: publishing may start. */
  open(): void {
    this.#open = true;
    this.#schedule();
  }

  /** Queues a job for the next message. */
  add(job: RemoteJob): void {
    this.#queue.push(job);
    this.#schedule();
  }

  /** A host's estimate of a job's cost, in ms: sizes the following messages. */
  observe(runMs: number): void {
    if (!(runMs > 0)) return;
    clearTimeout(this.#probeTimer);
    const probing = this.#perJobMs === undefined;
    this.#perJobMs = runMs;
    if (probing) this.#schedule();
  }

  /** A sent job was settled by its result. */
  answered(job: RemoteJob): void {
    const message = job.message;
    if (message === undefined) return;
    message.open--;
    message.answered++;
    this.#answered(message);
  }

  /** A message was answered, or every job of it settled: it no longer waits for a host. */
  #answered(message: OutMessage): void {
    if (!message.waiting) return;
    message.waiting = false;
    if (this.#unanswered-- === MAX_UNANSWERED) this.#schedule();
  }

  /** A job was given up by the client (timeout, abort, forced shutdown). */
  abandon(job: RemoteJob): void {
    const message = job.message;
    if (message === undefined) return; // not sent: the flush skips it
    message.open--;
    if (message.open === 0) this.#answered(message);
    if (this.#cancelled.push(job.id) === 1) {
      setImmediate(() => {
        this.#notify();
      });
    }
    this.#maybeDelete(message);
  }

  #schedule(): void {
    if (this.#scheduled || !this.#open) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (
      this.#publishing < MAX_PUBLISHING &&
      this.#unanswered < MAX_UNANSWERED &&
      this.#head < this.#queue.length
    ) {
      if (this.#perJobMs === undefined && this.#probes >= PROBE_MESSAGES) {
        this.#probeTimer ??= setTimeout(() => {
          this.#perJobMs ??= 0;
          this.#schedule();
        }, PROBE_MS);
        break;
      }
      const jobs = this.#take();
      if (this.#perJobMs === undefined && jobs.length > 0) this.#probes++;
      if (jobs.length > 0) this.#send(jobs);
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 4096) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The next message's jobs: unsettled ones from the head, as many as fit by count and bytes. */
  #take(): RemoteJob[] {
    const jobs: RemoteJob[] = [];
    const byBytes = Math.max(1, Math.floor(this.#init.maxBytes / this.#bytesPerJob));
    const perJob = this.#perJobMs ?? 0;
    // The slots are read only once there is an estimate: before it, jobs go one a message.
    const slots = perJob > 0 ? this.#init.slots() : undefined;
    const most = Math.min(jobsPerMessage(perJob, this.queued, slots), byBytes);
    while (this.#head < this.#queue.length && jobs.length < most) {
      const job = this.#queue[this.#head++] as RemoteJob;
      if (!job.settled) jobs.push(job);
    }
    return jobs;
  }

  /** Encodes jobs as messages (split if too large) and publishes them. */
  #send(jobs: RemoteJob[]): void {
    const { clientId } = this.#init;
    pack(
      jobs,
      (part) => encodeJobs(clientId, part.map(wireJob)),
      this.#init.maxBytes,
      this.#init.limit,
      {
        message: (part, data) => {
          const per = data.length / part.length;
          this.#bytesPerJob = this.#bytesPerJob * 0.7 + per * 0.3;
          this.#publish(part, data);
        },
        tooLarge: (job, size) => {
          this.#init.reject(job, new PayloadTooLargeError('input', size, this.#init.limit));
        },
        unserialisable: (job, error) => {
          this.#init.reject(job, new DataCloneError('input', { cause: error }));
        },
      },
    );
  }

  #publish(jobs: RemoteJob[], data: Uint8Array): void {
    const message = new OutMessage(jobs.length);
    for (const job of jobs) job.sentIn(message);
    this.#publishing++;
    this.#unanswered++;
    const msgID = `${this.#init.clientId}.${++this.#sent}`;
    this.#init.publisher.publish(this.#init.subject, data, msgID).then(
      (ack) => {
        message.seq = ack.seq;
        this.#published();
        this.#maybeDelete(message);
      },
      (error: unknown) => {
        this.#answered(message);
        this.#published();
        for (const job of jobs) this.#init.reject(job, error);
      },
    );
  }

  #published(): void {
    this.#publishing--;
    if (this.#head < this.#queue.length) this.#schedule();
  }

  /** Deletes a stored message that no host has answered and whose every job was given up. */
  #maybeDelete(message: OutMessage): void {
    if (message.open > 0 || message.answered > 0 || message.seq === undefined) return;
    const seq = message.seq;
    message.seq = undefined;
    void this.#init
      .manager()
      .then((jsm) => jsm.streams.deleteMessage(this.#init.stream, seq, false))
      .catch(() => undefined); // taken (or gone) meanwhile: the cancel notice covers it
  }

  /** Tells the hosts which jobs were given up. Best effort. */
  #notify(): void {
    const ids = this.#cancelled;
    this.#cancelled = [];
    if (ids.length === 0 || this.#init.nc.isClosed()) return;
    try {
      this.#init.nc.publish(this.#init.cancelSubject, encodeCancel(this.#init.clientId, ids));
    } catch {
      // Too many ids for one message or a closed connection: the jobs run and are dropped.
    }
  }
}

function wireJob(job: RemoteJob): WireJob {
  return {
    id: job.id,
    task: job.task,
    timeout: job.timeout,
    maxTries: job.maxTries,
    key: job.key,
    input: job.input,
    traceparent: job.traceparent,
  };
}

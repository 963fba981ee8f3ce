/**
 * One job on the client side of a queue: what to send, and who hears the outcome. A job
 * settles exactly once; a second result for it (after a redelivery) finds it gone.
 *
 * @module
 */
import { AbortError, JobTimeoutError, type ExecutorJobOptions } from '../../index.js';
import { startJobSpan, type JobSpan } from '../../observe/trace.js';
import { SettleOnce, type SettleOwner } from '../../util/settle-once.js';
import {
  checkInteger,
  checkNonEmptyString,
  checkObject,
  checkSignal,
  invalid,
} from '../../util/validate.js';

/** A job message, once sent. */
export class OutMessage {
  /** Its stream sequence, once stored. */
  seq: number | undefined;
  /** Jobs of it not yet settled. */
  open: number;
  /** Jobs of it settled by a result: some host has taken it. */
  answered = 0;
  /** Counted among the messages no host has answered yet. */
  waiting = true;

  constructor(jobs: number) {
    this.open = jobs;
  }
}

/** Who hears a job's outcome, when it is not a plain promise (the stream adapter). */
export type RemoteJobOwner = SettleOwner<RemoteJob>;

/** Where a job is: waiting in the outbox, sent to the queue, or settled. */
export type RemoteJobState = 'queued' | 'sent' | 'settled';

/** Job defaults of a client. */
export interface JobDefaults {
  readonly maxTries: number;
  readonly timeout: number;
}

/** Where a job of a stream comes from, and who hears its outcome. */
export interface RemoteJobPlace {
  readonly owner: RemoteJobOwner;
  /** The input's position in the stream. */
  readonly index: number;
  /** The stream's key for it (overrides the options' key). */
  readonly key: string | undefined;
}

/**
 * One job on the client side. Its state is its own: the client watches it
 * ({@link RemoteJob.watch}), the outbox marks it sent ({@link RemoteJob.sentIn}), and
 * whoever has its outcome calls {@link SettleOnce.settle}, which alone ends it.
 */
export class RemoteJob extends SettleOnce<RemoteJob> {
  /** Unique per client; results name the job by it. */
  readonly id: number;
  readonly task: string;
  readonly timeout: number;
  readonly maxTries: number;
  readonly key: string | undefined;
  readonly signal: AbortSignal | undefined;
  /** The input's position in a stream (0 for a single job). */
  readonly index: number;
  /** Kept for the stream's outcome; dropped once settled. */
  #input: unknown;
  /** Where it is, until it settles (then {@link SettleOnce.settled} says so). */
  #state: Exclude<RemoteJobState, 'settled'> = 'queued';
  /** The job message it went out in. */
  #message: OutMessage | undefined;
  /** Its producer span, when submitted inside a trace (src/observe/trace.ts). */
  readonly #span: JobSpan | undefined;

  constructor(
    id: number,
    input: unknown,
    options: ExecutorJobOptions,
    defaults: JobDefaults,
    place?: RemoteJobPlace,
  ) {
    super(place?.owner);
    this.id = id;
    this.#input = input;
    this.task = options.task ?? 'default';
    this.timeout = options.timeout ?? defaults.timeout;
    this.maxTries = options.maxTries ?? defaults.maxTries;
    this.key = place === undefined ? options.key : place.key;
    this.signal = options.signal;
    this.index = place?.index ?? 0;
    // A job of its own (pool.do) is traced; a stream's inputs are not, as on a local pool.
    this.#span = this.owner === undefined ? startJobSpan(this.task, 'nats') : undefined;
  }

  get input(): unknown {
    return this.#input;
  }

  get state(): RemoteJobState {
    return this.settled ? 'settled' : this.#state;
  }

  /** The job message it went out in, once sent. */
  get message(): OutMessage | undefined {
    return this.#message;
  }

  /** The W3C trace context the host runs the task in, when the job is traced. */
  get traceparent(): string | undefined {
    return this.#span?.traceparent;
  }

  /** Whether `owner` hears this job's outcome. */
  ownedBy(owner: RemoteJobOwner): boolean {
    return this.owner === owner;
  }

  /**
   * Starts its timeout and listens to its signal: `giveUp` hears a `JobTimeoutError` or an
   * `AbortError`. Both stop when the job settles.
   */
  watch(giveUp: (error: Error) => void): void {
    this.listen(this.signal, (reason) => {
      giveUp(new AbortError(reason));
    });
    if (this.timeout > 0 && !this.settled) {
      this.startTimer(this.timeout, () => {
        giveUp(new JobTimeoutError(this.timeout));
      });
    }
  }

  /** It went out in `message`. */
  sentIn(message: OutMessage): void {
    this.#state = 'sent';
    this.#message = message;
  }

  /** Settles the job (see {@link SettleOnce.settle}), ending its producer span first. */
  override settle(ok: boolean, value: unknown): boolean {
    if (this.#span !== undefined && !this.settled) this.#span.end(ok, value);
    return super.settle(ok, value);
  }

  protected override released(): void {
    this.#input = undefined;
  }
}

const KNOWN = new Set(['task', 'signal', 'timeout', 'maxTries', 'key']);
/** Options of a local pool's job that a queue cannot honour: refused as such, not as typos. */
const LOCAL_ONLY = new Set(['transfer', 'onProgress', 'queueFull', 'dedupe']);

/**
 * Checks the options of one remote job. Options a local pool has but a queue cannot honour
 * (`transfer`, `onProgress`, `queueFull`, `dedupe`) are refused by name.
 */
export function checkRemoteJobOptions(options: unknown): ExecutorJobOptions {
  if (options === undefined) return {};
  const o = checkObject('options', options);
  for (const name of Object.keys(o)) {
    if (KNOWN.has(name)) continue;
    if (!LOCAL_ONLY.has(name)) invalid(name, 'a known option', o[name]);
    if (o[name] !== undefined) {
      invalid(name, 'an option a RemotePool job takes', o[name]);
    }
  }
  if (o.task !== undefined) checkNonEmptyString('task', o.task);
  if (o.signal !== undefined) checkSignal('signal', o.signal);
  if (o.key !== undefined) checkRemoteKey(o.key);
  if (o.maxTries !== undefined) checkInteger('maxTries', o.maxTries, 1);
  if (o.timeout !== undefined) checkInteger('timeout', o.timeout, 0);
  return o;
}

/** Checks a job's key: a non-empty string. */
export function checkRemoteKey(key: unknown): string {
  return checkNonEmptyString('key', key);
}

/**
 * One job on the client side of a queue: what to send, and who hears the outcome. A job
 * settles exactly once; a second result for it (after a redelivery) finds it gone.
 *
 * @module
 */
import { InvalidOptionError, type ExecutorJobOptions } from '../../index.js';

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
export interface RemoteJobOwner {
  settled(job: RemoteJob, ok: boolean, value: unknown): void;
}

/** Where a job is: waiting in the outbox, sent to the queue, or settled. */
export type RemoteJobState = 'queued' | 'sent' | 'settled';

/** Job defaults of a client. */
export interface JobDefaults {
  readonly maxTries: number;
  readonly timeout: number;
}

export class RemoteJob {
  /** Unique per client; results name the job by it. */
  readonly id: number;
  /** Kept for the stream's outcome; dropped once settled. */
  input: unknown;
  readonly task: string;
  readonly timeout: number;
  readonly maxTries: number;
  key: string | undefined;
  readonly signal: AbortSignal | undefined;
  state: RemoteJobState = 'queued';
  /** The job message it went out in. */
  message: OutMessage | undefined;
  /** The timeout's timer. */
  timer: NodeJS.Timeout | undefined;
  /** Removes the abort listener. */
  unlisten: (() => void) | undefined;
  /** The input's position in a stream. */
  index = 0;
  owner: RemoteJobOwner | undefined;
  #resolve: ((value: unknown) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;

  constructor(id: number, input: unknown, options: ExecutorJobOptions, defaults: JobDefaults) {
    this.id = id;
    this.input = input;
    this.task = options.task ?? 'default';
    this.timeout = options.timeout ?? defaults.timeout;
    this.maxTries = options.maxTries ?? defaults.maxTries;
    this.key = options.key;
    this.signal = options.signal;
  }

  /** Routes the outcome to a promise. */
  promise(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  get settled(): boolean {
    return this.state === 'settled';
  }

  /** Settles the job; returns false (and does nothing) when it was already settled. */
  settle(ok: boolean, value: unknown): boolean {
    if (this.state === 'settled') return false;
    this.state = 'settled';
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.unlisten?.();
    this.unlisten = undefined;
    if (this.owner !== undefined) this.owner.settled(this, ok, value);
    else if (ok) this.#resolve?.(value);
    else this.#reject?.(value);
    this.input = undefined;
    return true;
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
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  const o = options as Record<string, unknown>;
  for (const name of Object.keys(o)) {
    if (KNOWN.has(name)) continue;
    if (!LOCAL_ONLY.has(name)) throw new InvalidOptionError(name, 'a known option', o[name]);
    if (o[name] !== undefined) {
      throw new InvalidOptionError(name, 'an option a RemotePool job takes', o[name]);
    }
  }
  if (o.task !== undefined && (typeof o.task !== 'string' || o.task === '')) {
    throw new InvalidOptionError('task', 'a non-empty string', o.task);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new InvalidOptionError('signal', 'an AbortSignal', o.signal);
  }
  if (o.key !== undefined) checkRemoteKey(o.key);
  if (o.maxTries !== undefined) checkInteger('maxTries', o.maxTries, 1);
  if (o.timeout !== undefined) checkInteger('timeout', o.timeout, 0);
  return options;
}

/** Checks an integer option, `min` inclusive. */
export function checkInteger(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidOptionError(name, `an integer >= ${min}`, value);
  }
  return value;
}

/** Checks a job's key: a non-empty string. */
export function checkRemoteKey(key: unknown): string {
  if (typeof key !== 'string' || key === '') {
    throw new InvalidOptionError('key', 'a non-empty string', key);
  }
  return key;
}

/**
 * One job on the main thread: what to run, how it may be retried, and who hears
 * the outcome. A job settles exactly once; every later attempt is ignored.
 */
import type { Transferable } from 'node:worker_threads';
import { InvalidOptionError } from '../util/errors.js';
import { checkInteger } from './options.js';
import type { QueueFullPolicy, ResolvedOptions } from './options.js';
import type { WorkerHandle } from '../threads/thread.js';
import { checkKey, type KeyState } from '../keyed/key-table.js';
import type { Slot } from '../governor/governor.js';

/** Options for one job (`pool.do`), and the per-job part of `execute`/`wrap`. */
export interface JobOptions {
  /** The exported task to run. @default 'default' */
  task?: string;
  /** Aborts the job: removed at once if queued; `ctx.signal` aborts if running. */
  signal?: AbortSignal;
  /** Run-time limit in ms (time queued does not count); 0 for none. @default the pool's `timeout` */
  timeout?: number;
  /** Objects moved, not copied, to the thread (ArrayBuffers, MessagePorts). */
  transfer?: readonly Transferable[];
  /** Called on the main thread with each value the task passes to `ctx.progress()`. */
  onProgress?: (value: unknown) => void;
  /** Overrides the pool's `maxTries` for this job. */
  maxTries?: number;
  /** Overrides the pool's `queueFull` for this job. */
  queueFull?: QueueFullPolicy;
  /**
   * The job's key: it starts only while the key's active count is below its target
   * (see `pool.setTarget`), and keys are served in turn.
   */
  key?: string;
  /**
   * Coalesces this job with the others of the same id that are queued or running: they
   * share one execution and every caller gets its result. The first job's input and
   * options are the ones that run. Aborting one caller does not cancel the shared job
   * while others still wait for it.
   */
  dedupe?: string;
}

/** Who hears a job's outcome, when it is not a plain promise (the stream adapters). */
export interface JobOwner {
  settled(job: Job, ok: boolean, value: unknown): void;
}

/** Where a job is in its life (`waiting`: for a governor slot, before it may queue). */
export type JobState = 'waiting' | 'queued' | 'sent' | 'settled';

export class Job {
  /** Unique per pool; the wire refers to the job by it. */
  readonly id: number;
  readonly task: string;
  input: unknown;
  transfer: readonly Transferable[] | undefined;
  readonly maxTries: number;
  /** Run-time limit in ms, 0 for none. */
  readonly timeout: number;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((value: unknown) => void) | undefined;
  readonly queueFull: QueueFullPolicy;
  /** The key, if any, and its state once the job is queued. */
  key: string | undefined;
  keyState: KeyState | undefined;
  state: JobState = 'queued';
  /** Attempts started so far (a dispatch that the thread never started is given back). */
  tries = 0;
  /** The governor slot the job holds, if the pool has a governor for its key. */
  slot: Slot | undefined;
  /** A thread terminated for this job's timeout, still running it until it exits. */
  lingering: WorkerHandle | undefined;
  /** The thread holding the job, while it is sent. */
  holder: WorkerHandle | undefined;
  /** Asked back from its thread by a steal; it may or may not have started. */
  stolen = false;
  /** Position in its thread's stream of jobs, to tell started jobs from bystanders after a crash. */
  seq = 0;
  /** `performance.now()` when it entered the queue, then when it was sent. */
  queuedAt = 0;
  sentAt = 0;
  /** The timeout or abort-grace timer, while one runs. */
  timer: NodeJS.Timeout | undefined;
  /** Removes our abort listener from `signal`. */
  unlisten: (() => void) | undefined;
  /** Free slot for the owner's bookkeeping (the stream adapters keep the input's index here). */
  index = 0;
  /** Who hears the outcome, when not a promise. */
  owner: JobOwner | undefined;
  #resolve: ((value: unknown) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;

  constructor(id: number, input: unknown, options: JobOptions, pool: ResolvedOptions) {
    this.id = id;
    this.input = input;
    this.task = options.task ?? 'default';
    this.transfer = options.transfer;
    this.maxTries = options.maxTries ?? pool.maxTries;
    this.timeout = options.timeout ?? pool.timeout;
    this.signal = options.signal;
    this.onProgress = options.onProgress;
    this.queueFull = options.queueFull ?? pool.queueFull;
    this.key = options.key;
  }

  /** Routes the outcome to a promise. */
  promise(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Routes the outcome to an owner. */
  ownedBy(owner: JobOwner): void {
    this.owner = owner;
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
    this.transfer = undefined;
    return true;
  }
}

/** Checks the per-job options that do not depend on the pool. */
export function checkJobOptions(options: unknown): JobOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  const o = options as Record<string, unknown>;
  if (o.task !== undefined && (typeof o.task !== 'string' || o.task === '')) {
    throw new InvalidOptionError('task', 'a non-empty string', o.task);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new InvalidOptionError('signal', 'an AbortSignal', o.signal);
  }
  if (o.transfer !== undefined && !Array.isArray(o.transfer)) {
    throw new InvalidOptionError('transfer', 'an array of transferables', o.transfer);
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw new InvalidOptionError('onProgress', 'a function', o.onProgress);
  }
  if (o.key !== undefined) checkKey(o.key);
  if (o.dedupe !== undefined) checkKey(o.dedupe, 'dedupe');
  if (o.maxTries !== undefined) checkInteger('maxTries', o.maxTries, 1);
  if (o.timeout !== undefined) checkInteger('timeout', o.timeout, 0);
  if (o.queueFull !== undefined && o.queueFull !== 'wait' && o.queueFull !== 'reject') {
    throw new InvalidOptionError('queueFull', "'wait' or 'reject'", o.queueFull);
  }
  return options;
}

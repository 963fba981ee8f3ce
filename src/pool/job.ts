/**
 * One job on the main thread: what to run, how it may be retried, and who hears
 * the outcome. A job settles exactly once; every later attempt is ignored.
 */
import { timed } from './stats.js';
import type { Transferable } from 'node:worker_threads';
import {
  check,
  checkFunction,
  checkInteger,
  checkKnown,
  checkNonEmptyString,
  checkObject,
  checkOneOf,
  checkSignal,
} from '../util/validate.js';
import type { QueueFullPolicy, ResolvedOptions } from './options.js';
import { checkKey, type KeyState } from '../keyed/key-table.js';
import { SettleOnce, type SettleOwner } from '../util/settle-once.js';
import type { ThreadHandle } from '../threads/thread.js';
import { carriedSpan, startJobSpan, type JobSpan } from '../observe/trace.js';

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
  /**
   * Higher starts first; FIFO among equal priorities. It orders the jobs queued in the pool,
   * within what keyed targets allow: a job whose key is at its target waits whatever its
   * priority, while lower ones of keys with room start. Jobs already sent to a thread
   * (prefetched) keep their place there. Any finite number; not honoured by `RemotePool`
   * (refused there with `ERR_INVALID_OPTION`).
   *
   * @example
   * ```ts
   * await pool.do(request, { priority: 10 }); // ahead of the batch jobs queued at 0
   * ```
   * @default 0
   */
  priority?: number;
}

/** Who hears a job's outcome, when it is not a plain promise (the stream adapters). */
export type JobOwner = SettleOwner<Job>;

/**
 * Where a job is in its life: `idle` in no queue and on no thread (just made, or taken out
 * of the queue and refused), `waiting` for a governor slot before it may queue.
 */
export type JobState = 'idle' | 'waiting' | 'queued' | 'sent' | 'settled';

/** What the stream adapters fix about a job when they make it. */
export interface JobExtras {
  /** The input's position in the source. */
  index?: number;
  /** Who hears the outcome, instead of a promise. */
  owner?: JobOwner;
  /** Overrides `options.transfer`. */
  transfer?: readonly Transferable[] | undefined;
  /** Overrides `options.key` (undefined: no key). */
  key?: string | undefined;
  /** The input is an array of inputs, each run as a job of its own (see `pool/chunk.ts`). */
  chunk?: boolean;
  /** Tries the input already used (a chunk's input run again on its own). */
  tries?: number;
  /** A chunk's inputs' positions in the source (`index` is the first's). */
  indices?: readonly number[];
  /** Overrides `options.priority` (the stream's per-input priority). */
  priority?: number;
  /**
   * The trace context of a span started elsewhere (a work queue's client): the job runs in
   * it, with no producer span of its own.
   */
  traceparent?: string | undefined;
}

/**
 * A job and its one state machine. Other modules read it; its state changes only through
 * the transition methods below and those of {@link SettleOnce} (settling, its timer, its
 * abort listener), which the scheduler calls, itself or through its `JobTimers`. Where a
 * job sits on a thread, its sequence number there and whether it was asked back, belong
 * to the thread handle.
 */
export class Job extends SettleOnce<Job> {
  /** Unique per pool; the wire refers to the job by it. */
  readonly id: number;
  readonly task: string;
  readonly maxTries: number;
  /** Run-time limit in ms, 0 for none. */
  readonly timeout: number;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((value: unknown) => void) | undefined;
  readonly queueFull: QueueFullPolicy;
  readonly key: string | undefined;
  /** Higher starts first (see {@link JobOptions.priority}). */
  readonly priority: number;
  /** The input's position in the source, for the stream adapters. */
  readonly index: number;
  /** Whether the input is a chunk of inputs (see `pool/chunk.ts`). */
  readonly chunk: boolean;
  /** Inputs the job carries: 1, or a chunk's length. */
  readonly size: number;
  /** A chunk's inputs' positions in the source. */
  readonly indices: readonly number[] | undefined;
  #input: unknown;
  #transfer: readonly Transferable[] | undefined;
  /** Where it is, until it settles (then {@link SettleOnce.settled} says so). */
  #state: Exclude<JobState, 'settled'> = 'idle';
  /** Attempts started so far (a dispatch that the thread never started is given back). */
  #tries = 0;
  /** The key's state, once the job is submitted. */
  #keyState: KeyState | undefined;
  /** The thread holding the job, while it is sent. */
  #holder: ThreadHandle<Job> | undefined;
  /** A thread terminated for this job's timeout, still running it until it exits. */
  #lingering: ThreadHandle<Job> | undefined;
  /** `performance.now()` when it entered the queue, then when it was sent (sampled jobs). */
  #queuedAt = 0;
  #sentAt = 0;
  /** When its thread was first seen to have started it (0: not seen yet; see `HeldJobs.look`). */
  startedAt = 0;
  /** A chunk's answers that its dying thread sent (the first inputs'). */
  #part: unknown[] | undefined;
  /** Its producer span, when submitted inside a trace (src/observe/trace.ts). */
  readonly #span: JobSpan | undefined;

  /** One key's `inputs` of a batch (at `indices` in it) as one chunk job. */
  static chunk(
    id: number,
    inputs: unknown[],
    indices: number[],
    options: JobOptions,
    pool: ResolvedOptions,
    owner: JobOwner,
    key: string | undefined,
  ): Job {
    return new Job(id, inputs, options, pool, {
      index: indices[0] as number,
      indices,
      owner,
      chunk: true,
      key,
    });
  }

  constructor(
    id: number,
    input: unknown,
    options: JobOptions,
    pool: ResolvedOptions,
    extras: JobExtras = {},
  ) {
    super(extras.owner);
    this.id = id;
    this.#input = input;
    this.task = options.task ?? 'default';
    this.#transfer = 'transfer' in extras ? extras.transfer : options.transfer;
    this.maxTries = options.maxTries ?? pool.maxTries;
    this.timeout = options.timeout ?? pool.timeout;
    this.signal = options.signal;
    this.onProgress = options.onProgress;
    this.queueFull = options.queueFull ?? pool.queueFull;
    this.key = 'key' in extras ? extras.key : options.key;
    this.priority = extras.priority ?? options.priority ?? 0;
    this.index = extras.index ?? 0;
    this.chunk = extras.chunk === true;
    this.size = this.chunk ? (input as unknown[]).length : 1;
    this.indices = extras.indices;
    this.#tries = extras.tries ?? 0;
    // A job of its own (pool.do, a proxy call) is traced; a stream's inputs are not, unless
    // they carry a trace from elsewhere.
    this.#span =
      extras.traceparent !== undefined
        ? carriedSpan(extras.traceparent)
        : this.owner === undefined
          ? startJobSpan(this.task, 'corral')
          : undefined;
  }

  get input(): unknown {
    return this.#input;
  }
  get transfer(): readonly Transferable[] | undefined {
    return this.#transfer;
  }
  get state(): JobState {
    return this.settled ? 'settled' : this.#state;
  }
  get tries(): number {
    return this.#tries;
  }
  get keyState(): KeyState | undefined {
    return this.#keyState;
  }
  get holder(): ThreadHandle<Job> | undefined {
    return this.#holder;
  }
  get lingering(): ThreadHandle<Job> | undefined {
    return this.#lingering;
  }
  /** A chunk's answers for its first inputs, sent by its thread as it died. */
  get part(): unknown[] | undefined {
    return this.#part;
  }
  get queuedAt(): number {
    return this.#queuedAt;
  }
  get sentAt(): number {
    return this.#sentAt;
  }
  /** The W3C trace context the task runs in, when the job is traced. */
  get traceparent(): string | undefined {
    return this.#span?.traceparent;
  }
  /**
   * Whether the job's wait and run times are recorded (the policy, by id, is in stats.ts:
   * the first jobs, then one in 8, which keeps the clock reads off the hot path).
   */
  get sampled(): boolean {
    return timed(this.id);
  }

  // ---------------------------------------------------------- transitions (the scheduler's)

  /** Submitted: its key's state. */
  submitted(keyState: KeyState | undefined): void {
    this.#keyState = keyState;
  }

  /** Waits for a governor slot before it may queue. */
  await(): void {
    this.#state = 'waiting';
  }

  /** Enters the queue. */
  enqueue(now: number): void {
    this.#state = 'queued';
    this.#queuedAt = now;
  }

  /** Taken out of the queue, and will not go to a thread (its task is refused). */
  taken(): void {
    this.#state = 'idle';
  }

  /** Goes to a thread: one more try. */
  send(holder: ThreadHandle<Job>, now: number): void {
    this.#state = 'sent';
    this.#holder = holder;
    this.#tries++;
    this.#sentAt = now;
    this.startedAt = 0;
  }

  /** Back to the head of the queue; `refund` gives back the try it was sent with. */
  requeue(refund: boolean): void {
    this.#state = 'queued';
    this.#holder = undefined;
    if (refund) this.#tries--;
  }

  /** Sent, but the message could not be posted: it never reached the thread. */
  unsent(): void {
    this.#holder = undefined;
    this.#tries--;
  }

  /** Its thread is being terminated for its timeout and still runs it until it exits. */
  linger(thread: ThreadHandle<Job>): void {
    this.#lingering = thread;
  }

  /** `thread` no longer holds it. */
  left(thread: ThreadHandle<Job>): void {
    if (this.#lingering === thread) this.#lingering = undefined;
  }

  /** Keeps the answers a dying thread sent for the first inputs of this chunk. */
  keepPart(answers: unknown[]): void {
    this.#part = answers;
  }

  /** Settles the job (see {@link SettleOnce.settle}), ending its producer span first. */
  override settle(ok: boolean, value: unknown): boolean {
    if (this.#span !== undefined && !this.settled) this.#span.end(ok, value);
    return super.settle(ok, value);
  }

  /** Settled: the input and what it moves are no longer needed. */
  protected override released(): void {
    this.#input = undefined;
    this.#transfer = undefined;
  }
}

/** Every key of {@link JobOptions}: `pool.do` refuses others by name, as the pool's options do. */
const JOB_OPTIONS: ReadonlySet<string> = new Set(
  Object.keys({
    task: true,
    signal: true,
    timeout: true,
    transfer: true,
    onProgress: true,
    maxTries: true,
    queueFull: true,
    key: true,
    dedupe: true,
    priority: true,
  } satisfies Record<keyof JobOptions, true>),
);

/**
 * Checks the per-job options that do not depend on the pool; `known`: the keys the caller
 * takes (`execute` and `wrap` check the keys their own options leave).
 */
export function checkJobOptions(options: unknown, known = JOB_OPTIONS): JobOptions {
  if (options === undefined) return {};
  const o = checkObject('options', options);
  checkKnown(o, known);
  if (o.task !== undefined) checkNonEmptyString('task', o.task);
  if (o.signal !== undefined) checkSignal('signal', o.signal);
  if (o.transfer !== undefined) {
    check(Array.isArray(o.transfer), 'transfer', 'an array of transferables', o.transfer);
  }
  if (o.onProgress !== undefined) checkFunction('onProgress', o.onProgress);
  if (o.key !== undefined) checkKey(o.key);
  if (o.dedupe !== undefined) checkKey(o.dedupe, 'dedupe');
  if (o.maxTries !== undefined) checkInteger('maxTries', o.maxTries, 1);
  if (o.timeout !== undefined) checkInteger('timeout', o.timeout, 0);
  if (o.queueFull !== undefined) checkOneOf('queueFull', o.queueFull, ['wait', 'reject']);
  if (o.priority !== undefined) checkPriority(o.priority);
  return o;
}

/** Checks a job's priority: a finite number. */
export function checkPriority(value: unknown, name = 'priority'): number {
  check(typeof value === 'number' && Number.isFinite(value), name, 'a finite number', value);
  return value as number;
}

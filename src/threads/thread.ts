/**
 * The main thread's handle on one worker thread: starts it, carries jobs to it over its
 * own MessagePort, keeps the jobs it holds (with their sequence numbers there), and
 * reports what the thread says and how it ends as one typed event. It owns all of its
 * own state; decisions (retry, replace, fail) belong to the engine.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { HeldJobs, type ThreadJob } from './held-jobs.js';
import {
  CANCELS,
  PROGRESS_BYTES,
  unknownMessage,
  type BootData,
  type FromWorker,
  type ToWorker,
} from '../protocol/messages.js';
import { encodeRun } from '../protocol/codec.js';
import type { ResolvedOptions } from '../pool/options.js';
import type { WireError } from '../protocol/wire-error.js';
import { StdioWatch } from './stdio-watch.js';
import { ProcessWorker } from './process-worker.js';
import { pollPort } from '../util/poll-port.js';

const runtime = new URL('../../workers/runtime.js', import.meta.url);

/** Where a thread is in its life. */
export type WorkerState = 'starting' | 'ready' | 'retiring' | 'closing' | 'terminating' | 'exited';

/**
 * Everything a handle reports: what the thread said (the protocol's {@link FromWorker}),
 * that it was created (the thread set says so, before any job can be sent to it), that it
 * did not finish starting within `startupTimeout`, and its exit (`error` undefined when the
 * exit was asked for).
 */
export type ThreadEvent =
  FromWorker | { type: 'spawned' } | { type: 'startup-timeout' } | { type: 'exit'; error: unknown };

/** Hears a handle's events. */
export type ThreadEvents<J extends ThreadJob> = (
  thread: ThreadHandle<J>,
  event: ThreadEvent,
) => void;

/** What a new thread is told about keyed targets. */
export interface KeySource {
  readonly counters: Int32Array;
  entries(): [string, number][];
}

/**
 * What runs a handle's runtime: a worker thread (Node's `Worker`), or a child process
 * standing in for one ({@link ProcessWorker}, with `isolation: 'process'`).
 */
type WorkerHost = Pick<Worker, 'threadId' | 'stdout' | 'stderr' | 'ref' | 'unref'> & {
  terminate(): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
};

/** `J`: the jobs it carries (the pool's `Job`). */
export class ThreadHandle<J extends ThreadJob> {
  readonly threadId: number;
  #state: WorkerState = 'starting';
  /** Jobs sent to this thread and not yet answered, with how far the thread got with each. */
  readonly held: HeldJobs<J>;
  /** Whether the thread ever became ready (a death before that is a start-up failure). */
  #everReady = false;
  /** Lease requests from this thread still waiting: request id -> withdraw. */
  readonly #acquires = new Map<number, () => void>();
  /** Why we terminated the thread, when we did. */
  #killReason: Error | undefined;
  /** Fires if the thread has not finished starting within `startupTimeout`. */
  #startTimer: NodeJS.Timeout | undefined;
  /** The thread's progress counters (see {@link BootData.progress}). */
  readonly #progress: Int32Array;
  readonly #worker: WorkerHost;
  /**
   * Whether the thread's progress counters are its own shared memory, read as it writes
   * them (a thread), or a copy that follows the child's frames (a process).
   */
  readonly sharedProgress: boolean;
  readonly #port: MessagePort;
  readonly #events: ThreadEvents<J>;
  /** The last 'error' event, reported with the exit that follows it. */
  #error: unknown;
  /** terminate() was called. */
  #terminating = false;
  /** Whether the thread currently keeps the process alive. */
  #refed = true;
  /** Broadcasts sent here and not yet settled: they keep the process alive like jobs. */
  #broadcasts = 0;
  /** Whether what the thread wrote to stdout/stderr before its last results is still on the way. */
  readonly #stdio: StdioWatch;

  constructor(options: ResolvedOptions, keys: KeySource, events: ThreadEvents<J>) {
    this.#events = events;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#progress = new Int32Array(new SharedArrayBuffer(PROGRESS_BYTES));
    this.held = new HeldJobs<J>(this.#progress);
    const boot: BootData = {
      module: options.module,
      ...(options.modules === undefined ? {} : { modules: options.modules }),
      port: port2,
      progress: this.#progress,
      concurrency: options.concurrency,
      workerData: options.workerData,
      keyCounters: keys.counters,
      keySlots: keys.entries(),
      ...(options.recycle === undefined ? {} : { recycle: options.recycle }),
    };
    this.sharedProgress = options.isolation === 'thread';
    this.#worker = this.sharedProgress
      ? new Worker(runtime, {
          workerData: boot,
          transferList: [port2],
          ...(options.resourceLimits === undefined
            ? {}
            : { resourceLimits: options.resourceLimits }),
          ...(options.execArgv === undefined ? {} : { execArgv: options.execArgv }),
        })
      : new ProcessWorker(boot, port2, options);
    this.threadId = this.#worker.threadId;
    this.#stdio = new StdioWatch(this.#worker, () => {
      this.#updateRef();
    });
    this.#port.on('message', (message: FromWorker) => {
      this.#onMessage(message);
    });
    this.#port.unref();
    this.#worker.on('error', (error) => {
      this.#error ??= error;
    });
    this.#worker.on('exit', (code) => {
      this.#onExit(code);
    });
    if (options.startupTimeout > 0) {
      this.#startTimer = setTimeout(() => {
        this.#startTimer = undefined;
        if (!this.#everReady && (this.#state === 'starting' || this.#state === 'retiring')) {
          this.#events(this, { type: 'startup-timeout' });
        }
      }, options.startupTimeout);
      // The starting thread itself keeps the process alive; the timer need not.
      this.#startTimer.unref();
    }
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** Whether the thread ever became ready (a death before that is a start-up failure). */
  get everReady(): boolean {
    return this.#everReady;
  }

  /** Why the pool terminated the thread, when it did. */
  get killReason(): Error | undefined {
    return this.#killReason;
  }

  /** Jobs this thread holds (running or waiting in its own queue). */
  get load(): number {
    return this.held.size;
  }

  /** Inputs this thread holds: its jobs, a chunk counting as its inputs. */
  get units(): number {
    return this.held.units;
  }

  /** An idle thread is being let go (resize): it takes no more jobs. */
  retire(): void {
    if (this.#state === 'ready' || this.#state === 'starting') this.#state = 'retiring';
  }

  /**
   * Asks the thread to give back its newest `count` unstarted jobs. Counted like a cancel,
   * so a thread running synchronous jobs back to back reads it before its next job.
   */
  steal(count: number): void {
    this.held.markStolen(count);
    const message: ToWorker = { type: 'steal', count };
    this.#port.postMessage(message);
    Atomics.add(this.#progress, CANCELS, 1);
  }

  /**
   * Sends jobs in one message. Returns the jobs that could not be cloned with the
   * error: those were not sent; the others were.
   */
  send(jobs: J[], taskIndex: ReadonlyMap<string, number>): [J, unknown][] {
    try {
      this.#post(jobs, taskIndex);
      return [];
    } catch (error) {
      if (jobs.length === 1) return [[jobs[0] as J, error]];
    }
    // One input in the batch cannot be cloned: find it by sending the jobs one by one.
    const failed: [J, unknown][] = [];
    for (const job of jobs) {
      try {
        this.#post([job], taskIndex);
      } catch (error) {
        failed.push([job, error]);
      }
    }
    return failed;
  }

  #post(jobs: J[], taskIndex: ReadonlyMap<string, number>): void {
    const { batch, transfer } = encodeRun(jobs, taskIndex);
    const message: ToWorker = { type: 'run', batch };
    this.#port.postMessage(message, transfer);
    this.held.add(jobs);
    this.#updateRef();
  }

  /** Takes one message from the thread if one arrives within `ms`; true if it did. */
  poll(ms: number): boolean {
    // A process's messages come through this thread's event loop: none can arrive meanwhile.
    if (!this.sharedProgress) return false;
    const next = pollPort(this.#port, ms);
    if (next === undefined) return false;
    this.#onMessage(next.message as FromWorker);
    return true;
  }

  /**
   * Asks the thread to drop or abort a job it holds. Posted, then counted: a thread that
   * sees the count finds the message already in its port (see `BootData.progress`).
   */
  cancel(id: number): void {
    const message: ToWorker = { type: 'cancel', id };
    this.#port.postMessage(message);
    Atomics.add(this.#progress, CANCELS, 1);
  }

  /** Takes every message the thread has posted and this thread has not read yet. */
  drain(): void {
    if (this.#state === 'exited') return;
    for (
      let m = receiveMessageOnPort(this.#port);
      m !== undefined;
      m = receiveMessageOnPort(this.#port)
    ) {
      this.#onMessage(m.message as FromWorker);
    }
  }

  /** Tells the thread about a new key (and the counters' new buffer, if they grew). */
  sendKey(key: string, slot: number, counters: Int32Array | undefined): void {
    if (this.#state === 'exited') return;
    const message: ToWorker =
      counters === undefined ? { type: 'key', key, slot } : { type: 'key', key, slot, counters };
    this.#port.postMessage(message);
  }

  /** Answers the thread's lease request `req`. */
  answerLease(req: number, id: number, error: WireError | undefined): void {
    if (this.#state === 'exited') return;
    const message: ToWorker =
      error === undefined ? { type: 'lease', req, id } : { type: 'lease', req, id, error };
    this.#port.postMessage(message);
  }

  /** Sends a broadcast (src/pool/broadcast.ts). Throws if `input` cannot be cloned. */
  broadcast(id: number, task: number, input: unknown): void {
    const message: ToWorker = { type: 'broadcast', id, task, input };
    this.#port.postMessage(message);
    this.#broadcasts++;
    this.#updateRef();
  }

  /** Asks an idle thread to run `cleanup()` and stop. */
  close(): void {
    this.#state = 'closing';
    this.#updateRef();
    const message: ToWorker = { type: 'close' };
    this.#port.postMessage(message);
  }

  /** Terminates the thread (once); `exited` follows. */
  terminate(reason?: Error): void {
    if (this.#terminating || this.#state === 'exited') return;
    this.#terminating = true;
    this.#killReason = reason;
    this.#state = 'terminating'; // takes no more jobs
    void this.#worker.terminate();
  }

  /** Forgets a job (answered, or given up on); keeps the process alive only while jobs are held. */
  release(job: J): void {
    this.held.delete(job);
    if (this.held.size === 0) this.#updateRef();
  }

  /** Keeps the withdraw function of a lease request still waiting. */
  waitLease(req: number, withdraw: () => void): void {
    this.#acquires.set(req, withdraw);
  }

  /** A lease request is answered or withdrawn: returns its withdraw function, if it waited. */
  leaseDone(req: number): (() => void) | undefined {
    const withdraw = this.#acquires.get(req);
    this.#acquires.delete(req);
    return withdraw;
  }

  #updateRef(): void {
    if (this.#state === 'exited') return;
    const want =
      this.#state === 'starting' ||
      this.#state === 'closing' ||
      this.held.size > 0 ||
      this.#broadcasts > 0 ||
      this.#stdio.behind;
    if (want === this.#refed) return;
    this.#refed = want;
    if (want) this.#worker.ref();
    else this.#worker.unref();
  }

  #onMessage(message: FromWorker): void {
    switch (message.type) {
      case 'results':
        this.#stdio.expect(message.stdio);
        break;
      case 'ready':
        if (this.#state === 'starting') this.#state = 'ready';
        this.#everReady = true;
        clearTimeout(this.#startTimer);
        this.#updateRef();
        break;
      case 'closed':
        // Terminating the thread would lose what it wrote and Node has not carried over yet.
        this.#stdio.expect(message.stdio);
        this.#stdio.whenCaughtUp(() => {
          this.#events(this, message);
        });
        return;
      case 'broadcast-result':
        this.#broadcasts--;
        this.#updateRef();
        break;
      case 'recycle':
        this.retire(); // it takes no job from now on
        break;
      case 'broadcast-started':
      case 'started':
      case 'progress':
      case 'start-failed':
      case 'acquire':
      case 'withdraw':
      case 'release':
        break;
      default:
        unknownMessage(message);
    }
    this.#events(this, message);
  }

  #onExit(code: number): void {
    clearTimeout(this.#startTimer);
    // Results the thread posted just before it died may still wait in the port.
    this.drain();
    // Asked to close (cleanup ran) or terminated with no reason (the pool is done with it).
    const planned =
      this.#killReason === undefined &&
      (this.#state === 'closing' || this.#state === 'terminating');
    this.#state = 'exited';
    this.#port.close();
    // An exit we did not ask for is a crash, whatever its code (process.exit(0) included).
    const error = planned
      ? undefined
      : (this.#error ?? this.#killReason ?? new Error(`the thread exited with code ${code}`));
    this.#events(this, { type: 'exit', error });
  }
}

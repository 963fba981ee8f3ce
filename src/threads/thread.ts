/**
 * The main thread's handle on one worker thread: starts it, carries jobs to it
 * over its own MessagePort, keeps the jobs it holds, and reports what the thread
 * says and how it ends. Decisions (retry, replace, fail) belong to the engine.
 */
import type { Transferable } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { Job } from '../pool/job.js';
import {
  CANCELS,
  FINISHED,
  JobFlag,
  PROGRESS_BYTES,
  STARTED,
  packMeta,
  unknownMessage,
  type BootData,
  type BroadcastResultMessage,
  type BroadcastStartedMessage,
  type FromWorker,
  type ToWorker,
} from '../protocol/messages.js';
import type { ResolvedOptions } from '../pool/options.js';
import type { WireError } from '../protocol/wire-error.js';
import { StdioWatch } from './stdio-watch.js';

const runtime = new URL('../../workers/runtime.js', import.meta.url);

/** Where a thread is in its life. */
export type WorkerState = 'starting' | 'ready' | 'retiring' | 'closing' | 'terminating' | 'exited';

/** What a handle reports to the engine. */
export interface WorkerListener {
  ready(worker: WorkerHandle, tasks: string[]): void;
  startFailed(
    worker: WorkerHandle,
    stage: 'load' | 'init',
    error: WireError,
    module: string | undefined,
  ): void;
  results(worker: WorkerHandle, batch: unknown[], busy: number): void;
  started(worker: WorkerHandle, id: number): void;
  progress(worker: WorkerHandle, id: number, value: unknown): void;
  closed(worker: WorkerHandle): void;
  exited(worker: WorkerHandle, error: unknown): void;
  acquire(worker: WorkerHandle, req: number, key: string): void;
  withdraw(worker: WorkerHandle, req: number): void;
  release(worker: WorkerHandle, id: number): void;
  /** A broadcast started or settled here (see src/pool/broadcast.ts). */
  broadcast(worker: WorkerHandle, message: BroadcastStartedMessage | BroadcastResultMessage): void;
}

/** What a new thread is told about keyed targets. */
export interface KeySnapshot {
  counters: Int32Array;
  slots: [string, number][];
}

export class WorkerHandle {
  readonly threadId: number;
  state: WorkerState = 'starting';
  /** Jobs sent to this thread and not yet answered, by id. */
  readonly jobs = new Map<number, Job>();
  /** Whether the thread ever became ready (a death before that is a start-up failure). */
  everReady = false;
  /** Lease requests from this thread still waiting: request id -> withdraw. */
  readonly acquires = new Map<number, () => void>();
  /** Whether the handle sits in the engine's ready-queue. */
  inReady = false;
  /** Why we terminated the thread, when we did; becomes the `cause` of what its jobs reject with. */
  killReason: Error | undefined;
  /** Sequence number of the last job sent. */
  #sent = 0;
  /**
   * Sequence numbers of jobs that left this thread before it started them (given back, or
   * cancelled): with {@link #sent} and the STARTED counter they tell how many jobs the
   * thread holds unstarted. Those at or below STARTED no longer matter and are pruned.
   */
  #dropped: number[] = [];
  /** The thread's progress counters (see {@link BootData.progress}). */
  readonly #progress: Int32Array;
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #listener: WorkerListener;
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

  constructor(options: ResolvedOptions, listener: WorkerListener, keys: KeySnapshot) {
    this.#listener = listener;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#progress = new Int32Array(new SharedArrayBuffer(PROGRESS_BYTES));
    const boot: BootData = {
      module: options.module,
      ...(options.modules === undefined ? {} : { modules: options.modules }),
      port: port2,
      progress: this.#progress,
      concurrency: options.concurrency,
      workerData: options.workerData,
      keyCounters: keys.counters,
      keySlots: keys.slots,
    };
    this.#worker = new Worker(runtime, {
      workerData: boot,
      transferList: [port2],
      ...(options.resourceLimits === undefined ? {} : { resourceLimits: options.resourceLimits }),
      ...(options.execArgv === undefined ? {} : { execArgv: options.execArgv }),
    });
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
  }

  /** Jobs this thread holds (running or waiting in its own queue). */
  get load(): number {
    return this.jobs.size;
  }

  /**
   * How far the thread got with a job sent here, from the shared counters. (A job given
   * back by a steal whose `Dropped` answer is still in transit when the thread dies is
   * judged by the counters too: at worst it is charged a try it did not use.)
   */
  phase(job: Job): 'unstarted' | 'running' | 'finished' {
    if (job.seq > Atomics.load(this.#progress, STARTED)) return 'unstarted';
    return job.seq <= Atomics.load(this.#progress, FINISHED) ? 'finished' : 'running';
  }

  /**
   * Jobs this thread holds and has not started (prefetched), in O(jobs given back
   * meanwhile) rather than O(jobs held). (A job answered `Ok` has started: the thread
   * stores STARTED before it posts the result.)
   */
  prefetched(): number {
    const last = Atomics.load(this.#progress, STARTED);
    let n = this.#sent - last;
    const dropped = this.#dropped;
    for (let i = dropped.length - 1; i >= 0; i--) {
      if ((dropped[i] as number) > last) n--;
      else {
        dropped[i] = dropped[dropped.length - 1] as number;
        dropped.pop();
      }
    }
    return Math.max(0, n);
  }

  /** A job held here leaves before the thread started it (see {@link prefetched}). */
  forget(job: Job): void {
    this.#dropped.push(job.seq);
    if (this.#dropped.length > 64) this.prefetched(); // prunes
  }

  /** Jobs held here that the thread has not started (and that are not already asked back). */
  unstarted(): number {
    const last = Atomics.load(this.#progress, STARTED);
    let n = 0;
    for (const job of this.jobs.values()) if (job.seq > last && !job.stolen && !job.settled) n++;
    return n;
  }

  /** Asks the thread to give back its newest `count` unstarted jobs. */
  steal(count: number): void {
    const last = Atomics.load(this.#progress, STARTED);
    const held = [...this.jobs.values()];
    let marked = 0;
    for (let i = held.length - 1; i >= 0 && marked < count; i--) {
      const job = held[i] as Job;
      if (job.seq <= last) break;
      if (job.stolen || job.settled) continue;
      job.stolen = true;
      marked++;
    }
    const message: ToWorker = { type: 'steal', count };
    this.#port.postMessage(message);
  }

  /**
   * Sends jobs in one message. Returns the jobs that could not be cloned with the
   * error: those were not sent; the others were.
   */
  send(jobs: Job[], taskIndex: ReadonlyMap<string, number>): [Job, unknown][] {
    try {
      this.#post(jobs, taskIndex);
      return [];
    } catch (error) {
      if (jobs.length === 1) return [[jobs[0] as Job, error]];
    }
    // One input in the batch cannot be cloned: find it by sending the jobs one by one.
    const failed: [Job, unknown][] = [];
    for (const job of jobs) {
      try {
        this.#post([job], taskIndex);
      } catch (error) {
        failed.push([job, error]);
      }
    }
    return failed;
  }

  #post(jobs: Job[], taskIndex: ReadonlyMap<string, number>): void {
    // Filled by push: a packed array is cloned densely; a preallocated (holey) one is
    // cloned key by key, which is much slower.
    const batch: unknown[] = [];
    let transfer: Transferable[] | undefined;
    let task = '';
    let index: number | undefined;
    for (const job of jobs) {
      const flags =
        (job.onProgress === undefined ? 0 : JobFlag.Progress) |
        (job.timeout > 0 ? JobFlag.Timed : 0);
      if (job.task !== task) {
        task = job.task;
        index = taskIndex.get(task);
      }
      batch.push(job.id, index, job.input, packMeta(job.tries + 1, flags));
      if (job.transfer !== undefined && job.transfer.length > 0) {
        transfer = transfer === undefined ? [...job.transfer] : transfer.concat(job.transfer);
      }
    }
    const message: ToWorker = { type: 'run', batch };
    this.#port.postMessage(message, transfer);
    for (const job of jobs) {
      job.seq = ++this.#sent;
      job.tries++;
      this.jobs.set(job.id, job);
    }
    this.#updateRef();
  }

  /** Takes one message from the thread if one arrives within `ms`; true if it did. */
  poll(ms: number): boolean {
    const end = performance.now() + ms;
    do {
      const next = receiveMessageOnPort(this.#port);
      if (next !== undefined) {
        this.#onMessage(next.message as FromWorker);
        return true;
      }
    } while (performance.now() < end);
    return false;
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
    if (this.state === 'exited') return;
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
    if (this.state === 'exited') return;
    const message: ToWorker =
      counters === undefined ? { type: 'key', key, slot } : { type: 'key', key, slot, counters };
    this.#port.postMessage(message);
  }

  /** Answers the thread's lease request `req`. */
  answerLease(req: number, id: number, error: WireError | undefined): void {
    if (this.state === 'exited') return;
    const message: ToWorker =
      error === undefined ? { type: 'lease', req, id } : { type: 'lease', req, id, error };
    this.#port.postMessage(message);
  }

  /** Sends a broadcast (hook: see src/pool/broadcast.ts). Throws if `input` cannot be cloned. */
  broadcast(id: number, task: number, input: unknown): void {
    const message: ToWorker = { type: 'broadcast', id, task, input };
    this.#port.postMessage(message);
    this.#broadcasts++;
    this.#updateRef();
  }

  /** Asks an idle thread to run `cleanup()` and stop. */
  close(): void {
    this.state = 'closing';
    this.#updateRef();
    const message: ToWorker = { type: 'close' };
    this.#port.postMessage(message);
  }

  /** Terminates the thread (once); `exited` follows. */
  terminate(reason?: Error): void {
    if (this.#terminating || this.state === 'exited') return;
    this.#terminating = true;
    this.killReason = reason;
    this.state = 'terminating'; // takes no more jobs
    void this.#worker.terminate();
  }

  /** Forgets a job (answered, or given up on); keeps the process alive only while jobs are held. */
  release(id: number): void {
    this.jobs.delete(id);
    if (this.jobs.size === 0) this.#updateRef();
  }

  #updateRef(): void {
    if (this.state === 'exited') return;
    const want =
      this.state === 'starting' ||
      this.state === 'closing' ||
      this.jobs.size > 0 ||
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
        this.#listener.results(this, message.batch, message.busy);
        return;
      case 'started':
        this.#listener.started(this, message.id);
        return;
      case 'progress':
        this.#listener.progress(this, message.id, message.value);
        return;
      case 'ready':
        if (this.state === 'starting') this.state = 'ready';
        this.everReady = true;
        this.#updateRef();
        this.#listener.ready(this, message.tasks);
        return;
      case 'start-failed':
        this.#listener.startFailed(this, message.stage, message.error, message.module);
        return;
      case 'closed':
        // Terminating the thread would lose what it wrote and Node has not carried over yet.
        this.#stdio.expect(message.stdio);
        this.#stdio.whenCaughtUp(() => {
          this.#listener.closed(this);
        });
        return;
      case 'acquire':
        this.#listener.acquire(this, message.req, message.key);
        return;
      case 'withdraw':
        this.#listener.withdraw(this, message.req);
        return;
      case 'release':
        this.#listener.release(this, message.id);
        return;
      case 'broadcast-started': // hook (broadcast)
        this.#listener.broadcast(this, message);
        return;
      case 'broadcast-result': // hook (broadcast)
        this.#broadcasts--;
        this.#updateRef();
        this.#listener.broadcast(this, message);
        return;
      default:
        unknownMessage(message);
    }
  }

  #onExit(code: number): void {
    // Results the thread posted just before it died may still wait in the port.
    this.drain();
    // Asked to close (cleanup ran) or terminated with no reason (the pool is done with it).
    const planned =
      this.killReason === undefined && (this.state === 'closing' || this.state === 'terminating');
    this.state = 'exited';
    this.#port.close();
    // An exit we did not ask for is a crash, whatever its code (process.exit(0) included).
    const error = planned
      ? undefined
      : (this.#error ?? this.killReason ?? new Error(`the thread exited with code ${code}`));
    this.#listener.exited(this, error);
  }
}

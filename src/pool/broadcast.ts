/**
 * Broadcast (`pool.broadcast`): runs a task once on every live thread and gathers one
 * outcome per thread. Order: a thread runs it in its place among the jobs it received, and
 * starts no job received after it until it has settled (workers/broadcast.ts). A thread
 * that dies before the broadcast settled there gives that thread's outcome the error it
 * died with (`ERR_WORKER_CRASHED`, or `ERR_POOL_CLOSED` for a forced shutdown); it is not
 * run elsewhere. A sticky broadcast is also sent to every thread created later (a
 * replacement, a resize), before any job; one that crashed a thread while it ran is no
 * longer sticky, so that it cannot crash every replacement in turn.
 *
 * @module
 */
import type { BroadcastResultMessage, BroadcastStartedMessage } from '../protocol/messages.js';
import { fromWire, type WireError } from '../protocol/wire-error.js';
import type { ThreadHandle } from '../threads/thread.js';
import type { Job } from './job.js';
import { DataCloneError, InvalidOptionError, PoolClosedError } from '../util/errors.js';
import { UnknownTaskError, WorkerCrashedError } from './errors.js';
import type { Emit } from './events.js';
import type { Lifecycle } from './lifecycle.js';
import { refuseTask } from './modules.js';
import type { ResolvedOptions } from './options.js';

/** Options for {@link Pool.broadcast}. */
export interface BroadcastOptions {
  /** The task to run on every thread. @default 'default' */
  task?: string;
  /**
   * Also run it on every thread started later (after a crash, a resize), before that thread
   * takes a job; the latest sticky broadcast of each task is kept.
   * @default false
   */
  sticky?: boolean;
}

/** What one thread made of a broadcast. */
export type BroadcastOutcome<R = unknown> =
  { threadId: number; ok: true; value: R } | { threadId: number; ok: false; error: unknown };

/** What the broadcaster needs from the engine. */
interface BroadcastHost {
  /** Every thread of the pool. */
  threads(): Iterable<ThreadHandle<Job>>;
  /** Why nothing more may run (closed, failed), if so. */
  refusal(): Error | undefined;
  /** The task table, once the first thread has reported it. */
  tasks(): ReadonlyMap<string, number> | undefined;
  /** Resolves once no thread is starting; rejects if the pool failed. */
  ready(): Promise<void>;
  /** Why `task` cannot run (an unknown task or module). */
  refuse(task: string, tasks: ReadonlyMap<string, number>): Error;
  /** A sticky broadcast failed on a thread started after it (nobody else would hear of it). */
  replayFailed(threadId: number, task: string, error: unknown): void;
}

/** One broadcast on its way to some threads. */
interface Run {
  task: string;
  index: number;
  input: unknown;
  sticky: boolean;
  /** Threads that have not answered, and where their outcome goes in {@link outcomes}. */
  waiting: Map<ThreadHandle<Job>, number>;
  /** Threads on which it started running. */
  started: Set<ThreadHandle<Job>>;
  outcomes: BroadcastOutcome[];
  /** Resolves the caller's promise; undefined for a sticky replay on a new thread. */
  resolve: ((outcomes: BroadcastOutcome[]) => void) | undefined;
}

export class Broadcaster {
  readonly #host: BroadcastHost;
  /** Broadcasts not yet settled everywhere, by id. */
  readonly #runs = new Map<number, Run>();
  /** The latest sticky broadcast of each task, in the order they were made. */
  readonly #sticky = new Map<string, { index: number; input: unknown }>();
  #nextId = 1;

  /** `tasks`: the scheduler's task table, once a thread has reported it. */
  constructor(
    options: ResolvedOptions,
    threads: Iterable<ThreadHandle<Job>>,
    life: Lifecycle,
    tasks: () => ReadonlyMap<string, number> | undefined,
    emit: Emit,
  ) {
    this.#host = {
      threads: () => threads,
      refusal: () => life.failure ?? (life.accepting ? undefined : new PoolClosedError()),
      tasks,
      ready: () => life.whenReady(),
      refuse: (task, table) =>
        refuseTask(options, task, table) ?? new UnknownTaskError(task, [...table.keys()]),
      replayFailed: (threadId, task, error) => {
        emit('broadcastFailed', { threadId, task, error });
      },
    };
  }

  /**
   * Runs `task` once on every live thread; resolves with one outcome per thread. Sent at
   * once (in this call) when the task table is known, so that it goes ahead of every job
   * submitted after this call; before that, once the first thread has reported its tasks.
   */
  run(input: unknown, options: unknown): Promise<BroadcastOutcome[]> {
    try {
      const { task, sticky } = checkBroadcastOptions(options);
      if (this.#host.tasks() !== undefined) return this.#send(input, task, sticky);
      return this.#later(input, task, sticky);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }

  async #later(input: unknown, task: string, sticky: boolean): Promise<BroadcastOutcome[]> {
    while (this.#host.tasks() === undefined) await this.#host.ready();
    return this.#send(input, task, sticky);
  }

  /** Sends the broadcast to every live thread now. Throws when it cannot. */
  #send(input: unknown, task: string, sticky: boolean): Promise<BroadcastOutcome[]> {
    const refusal = this.#host.refusal();
    if (refusal !== undefined) throw refusal;
    const tasks = this.#host.tasks() as ReadonlyMap<string, number>;
    const index = tasks.get(task);
    if (index === undefined) throw this.#host.refuse(task, tasks);
    const live = [...this.#host.threads()].filter(
      (w) => w.state === 'starting' || w.state === 'ready',
    );
    const run = this.#newRun(task, index, input, sticky);
    const id = this.#nextId++;
    const promise = new Promise<BroadcastOutcome[]>((resolve) => {
      run.resolve = resolve;
    });
    for (const worker of live) {
      try {
        worker.broadcast(id, index, input);
      } catch (error) {
        // The same input fails on every thread, so only the first can throw.
        throw new DataCloneError('input', { cause: error });
      }
      run.waiting.set(worker, run.outcomes.length);
      run.outcomes.push({ threadId: worker.threadId, ok: false, error: undefined });
    }
    if (sticky) {
      this.#sticky.delete(task);
      this.#sticky.set(task, { index, input });
    }
    if (live.length === 0) return Promise.resolve([]);
    this.#runs.set(id, run);
    return promise;
  }

  /** A new thread: the sticky broadcasts go to it before any job can. */
  replay(worker: ThreadHandle<Job>): void {
    for (const [task, { index, input }] of this.#sticky) {
      const id = this.#nextId++;
      const run = this.#newRun(task, index, input, true);
      // Cloned fine when it was first broadcast; a replay cannot fail to send.
      worker.broadcast(id, index, input);
      run.waiting.set(worker, 0);
      run.outcomes.push({ threadId: worker.threadId, ok: false, error: undefined });
      this.#runs.set(id, run);
    }
  }

  /** What a thread says about a broadcast. */
  onMessage(
    worker: ThreadHandle<Job>,
    message: BroadcastStartedMessage | BroadcastResultMessage,
  ): void {
    const run = this.#runs.get(message.id);
    if (run === undefined) return;
    if (message.type === 'broadcast-started') {
      run.started.add(worker);
      return;
    }
    const outcome: BroadcastOutcome = message.ok
      ? { threadId: worker.threadId, ok: true, value: message.value }
      : { threadId: worker.threadId, ok: false, error: fromWire(message.value as WireError) };
    this.#answer(message.id, run, worker, outcome);
  }

  /** A thread exited: each broadcast it had not answered gets the error it died with. */
  threadGone(worker: ThreadHandle<Job>, error: unknown): void {
    for (const [id, run] of this.#runs) {
      if (!run.waiting.has(worker)) continue;
      const crashed = error !== undefined && !(error instanceof PoolClosedError);
      if (crashed && run.started.has(worker) && run.sticky) this.#unstick(run);
      this.#answer(id, run, worker, { threadId: worker.threadId, ok: false, error: why(error) });
      continue;
    }
  }

  #newRun(task: string, index: number, input: unknown, sticky: boolean): Run {
    return {
      task,
      index,
      input,
      sticky,
      waiting: new Map(),
      started: new Set(),
      outcomes: [],
      resolve: undefined,
    };
  }

  #answer(id: number, run: Run, worker: ThreadHandle<Job>, outcome: BroadcastOutcome): void {
    const at = run.waiting.get(worker);
    if (at === undefined) return;
    run.waiting.delete(worker);
    run.outcomes[at] = outcome;
    if (run.resolve === undefined && !outcome.ok) {
      this.#host.replayFailed(outcome.threadId, run.task, outcome.error);
    }
    if (run.waiting.size > 0) return;
    this.#runs.delete(id);
    run.resolve?.(run.outcomes);
  }

  /** A sticky broadcast that crashed a thread is not sent to its replacement. */
  #unstick(run: Run): void {
    const kept = this.#sticky.get(run.task);
    if (kept !== undefined && kept.input === run.input) this.#sticky.delete(run.task);
  }
}

/** What a broadcast's outcome on a thread that exited first says. */
function why(error: unknown): Error {
  // The pool's own reasons (shut down by force, terminated for a job's timeout) as they are.
  if (error instanceof PoolClosedError || error instanceof WorkerCrashedError) return error;
  if (error === undefined) {
    return new WorkerCrashedError('the thread exited before the broadcast settled there');
  }
  return new WorkerCrashedError('the thread died before the broadcast settled there', {
    cause: error,
  });
}

/** `broadcast`'s options: an object with an optional non-empty `task` and boolean `sticky`. */
function checkBroadcastOptions(options: unknown): { task: string; sticky: boolean } {
  if (options === undefined) return { task: 'default', sticky: false };
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  const { task, sticky } = options as { task?: unknown; sticky?: unknown };
  if (task !== undefined && (typeof task !== 'string' || task === '')) {
    throw new InvalidOptionError('task', 'a non-empty string', task);
  }
  if (sticky !== undefined && typeof sticky !== 'boolean') {
    throw new InvalidOptionError('sticky', 'a boolean', sticky);
  }
  return { task: task ?? 'default', sticky: sticky === true };
}

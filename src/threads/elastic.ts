/**
 * The elastic thread count of a pool with `minThreads` < `maxThreads`: when to start a
 * thread (jobs wait that no thread has a free place for) and when to retire one (idle
 * for `idleTimeout` while more than `minThreads` take jobs). It is told what it needs
 * through its host and acts through it; it knows nothing of ports, queues or jobs, so it
 * is called at two places: the end of each dispatch pass (the scheduler, through the
 * callback the engine gives it) and a thread's exit (the engine).
 */
import type { ResolvedOptions } from '../pool/options.js';
import type { Job } from '../pool/job.js';
import type { KeySource, ThreadHandle } from './thread.js';
import type { ThreadSet } from './thread-set.js';

/** What the policy asks of the pool. */
export interface ElasticHost<T> {
  /** Every thread alive, in any state. */
  threads(): Iterable<T>;
  /** Whether a thread takes jobs and holds none. */
  idle(thread: T): boolean;
  /** Threads taking jobs or starting to (retiring, closing ones excluded): kept at `min` or more. */
  live(): number;
  /** Threads alive in any state, closing ones included: never more than `max`. */
  alive(): number;
  /** Jobs waiting that no thread has a free place for, a thread starting counting as free places. */
  backlog(): number;
  /** Whether the pool is running: it neither grows nor retires while starting, closing or failed. */
  active(): boolean;
  /** Starts one thread. */
  spawn(): void;
  /** Closes an idle thread gracefully (`cleanup()`, then exit). */
  retire(thread: T): void;
}

export class Elastic<T> {
  readonly #host: ElasticHost<T>;
  /** Jobs one thread runs at once: one thread started per this many waiting jobs. */
  readonly #perThread: number;
  /** Milliseconds a thread above `min` may stay idle. */
  readonly #idleTimeout: number;
  /** Threads kept however idle. */
  #min: number;
  /** Threads alive at most. */
  #max: number;
  /** The retirement timer of each idle thread, while the pool is above `min`. */
  readonly #timers = new Map<T, NodeJS.Timeout>();

  constructor(
    limits: { min: number; max: number; idleTimeout: number; perThread: number },
    host: ElasticHost<T>,
  ) {
    this.#min = limits.min;
    this.#max = limits.max;
    this.#idleTimeout = limits.idleTimeout;
    this.#perThread = limits.perThread;
    this.#host = host;
  }

  get min(): number {
    return this.#min;
  }

  get max(): number {
    return this.#max;
  }

  /**
   * `pool.resize(n)`: n threads from now on, elastic no more (min = max = n). The caller
   * starts or retires the threads; timers of idle threads would only retire below n.
   */
  resize(threads: number): void {
    this.#min = threads;
    this.#max = threads;
    for (const thread of [...this.#timers.keys()]) this.#disarm(thread);
  }

  /**
   * Looks at the threads and the backlog (after a dispatch pass, when what could be sent
   * was sent): idle threads above `min` get a retirement timer, busy ones lose theirs, and
   * threads start for the jobs that wait, up to `max`. A fixed pool returns at once.
   */
  check(): void {
    if (this.#min >= this.#max) return;
    if (!this.#host.active()) {
      for (const thread of [...this.#timers.keys()]) this.#disarm(thread);
      return;
    }
    // At min nothing retires: no timers to set and clear on every pass.
    const above = this.#host.live() > this.#min;
    for (const thread of this.#host.threads()) {
      if (above && this.#host.idle(thread)) this.#arm(thread);
      else this.#disarm(thread);
    }
    const room = this.#max - this.#host.alive();
    if (room <= 0) return;
    const backlog = this.#host.backlog();
    if (backlog <= 0) return;
    // As many as the backlog warrants at once: starting threads count as places in the
    // backlog, so the next passes do not start more for the same jobs.
    const wanted = Math.min(room, Math.ceil(backlog / this.#perThread));
    for (let i = 0; i < wanted; i++) this.#host.spawn();
  }

  /** A thread exited: its timer goes with it. */
  gone(thread: T): void {
    this.#disarm(thread);
  }

  #arm(thread: T): void {
    if (this.#timers.has(thread)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(thread);
      this.#expired(thread);
    }, this.#idleTimeout);
    // An idle pool lets the process exit, as without elastic threads.
    timer.unref();
    this.#timers.set(thread, timer);
  }

  #disarm(thread: T): void {
    const timer = this.#timers.get(thread);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(thread);
  }

  /** A thread's idle time is up: it goes if it is still idle and the pool above `min`. */
  #expired(thread: T): void {
    if (!this.#host.active() || this.#min >= this.#max) return;
    if (this.#host.live() <= this.#min || !this.#host.idle(thread)) return;
    this.#host.retire(thread);
  }
}

/** What {@link waitingJobs} reads of a thread. */
export interface ThreadLoad {
  readonly state: string;
  /** Jobs it holds, started or not. */
  readonly load: number;
  readonly held: {
    /** Jobs it holds and has not started. */
    prefetched(): number;
  };
}

/**
 * Jobs that wait for a thread to have room: those queued that could start (`runnable`,
 * read only when needed) and those a busy thread holds unstarted beyond its free places,
 * less the places of threads still starting. None while a ready thread has a free place:
 * after a dispatch pass, a job queued then is being handed to it (or balanced to it), and
 * another thread would idle too.
 */
export function waitingJobs(
  threads: Iterable<ThreadLoad>,
  concurrency: number,
  runnable: () => number,
): number {
  let parked = 0;
  let starting = 0;
  for (const t of threads) {
    if (t.state === 'starting') starting += concurrency;
    if (t.state !== 'ready') continue;
    if (t.load < concurrency) return 0;
    const unstarted = t.held.prefetched();
    const places = Math.max(0, concurrency - (t.load - unstarted));
    parked += Math.max(0, unstarted - places);
  }
  return Math.max(0, runnable() + parked - starting);
}

/**
 * The pool's policy, its host reading `threads` (idle: ready and holding no job; live and
 * alive counts), the backlog from `keyed.queue.runnable()`, active only while `life` is
 * running, starting threads (told `keyed.table`) through `spawning`, which fails the pool
 * if one cannot be created, and closing idle ones. The engine calls its `check()` at the
 * end of each dispatch pass.
 */
export function elasticFor(
  options: ResolvedOptions,
  threads: ThreadSet,
  keyed: { readonly queue: { runnable(): number }; readonly table: KeySource },
  life: { readonly state: string },
  spawning: (spawn: () => void) => void,
): Elastic<ThreadHandle<Job>> {
  const limits = { min: options.minThreads, max: options.maxThreads };
  const elastic = new Elastic<ThreadHandle<Job>>(
    { ...limits, idleTimeout: options.idleTimeout, perThread: options.concurrency },
    {
      threads: () => threads,
      idle: (t) => t.state === 'ready' && t.load === 0,
      live: () => threads.live(),
      alive: () => threads.size,
      backlog: () => waitingJobs(threads, options.concurrency, () => keyed.queue.runnable()),
      active: () => life.state === 'running',
      spawn: () => {
        spawning(() => {
          threads.spawn(keyed.table);
        });
      },
      retire: (t) => {
        t.close();
      },
    },
  );
  return elastic;
}

/**
 * How much work goes where, from how long jobs take: how many jobs a thread may hold at
 * once (the jobs it runs, plus a prefetch sized so that it never idles waiting for its
 * next message, while slow jobs are never stacked behind one another on one thread),
 * when a lone tiny job is worth polling for, and when an idle thread should take a share
 * of a busy thread's backlog. It decides; the scheduler moves the jobs.
 */
import type { ResolvedOptions } from './options.js';
import { chunkSize } from './chunk.js';
import type { ThreadHandle } from '../threads/thread.js';
import type { Job } from './job.js';

/** A thread should hold about this much work (ms) beyond what it is running. */
const PREFETCH_MS = 2;
/**
 * Upper bound of jobs held per thread, however small they are. It also bounds how far
 * one key can run ahead of another that arrives later (the fairness ring orders the
 * queue, not what threads already hold).
 */
const MAX_PREFETCH = 256;
/**
 * Upper bound of inputs held per thread: chunks (pool/chunk.ts, never keyed) carry many
 * inputs per job, and at a million tiny inputs a second 256 would last a thread 0.5 ms,
 * less than the time its results take to come back.
 */
const MAX_PREFETCH_INPUTS = 4096;
/** Jobs shorter than this (ms, on average) are never stolen back from a thread. */
const STEAL_JOB_MS = 0.5;
/** A lone job this short (ms) is waited for by polling its port... */
const LONE_JOB_MS = 0.02;
/** ...for at most this long (ms). */
export const LONE_POLL_MS = 0.04;

export class DispatchPolicy {
  readonly #concurrency: number;
  /**
   * One job's run time (ms) in a thread, whatever its task: it sizes what a thread holds.
   * It follows the latest costly work (see {@link estimate}), so a burst of slow jobs after
   * many tiny ones is not piled onto one thread.
   */
  #jobMs: number | undefined;
  /**
   * Moving average of the same: whether a backlog is worth a steal's round trip. (One
   * slow figure, a pause in the thread, must not set tiny jobs travelling back and forth.)
   */
  #meanMs: number | undefined;
  /** The same as {@link #jobMs}, by task, from batches of results of one task (a thread sends a slow job's alone). */
  readonly #taskMs = new Map<string, number>();
  /**
   * Moving average of the same by task: it sizes chunks, which should not shrink to a few
   * inputs because one batch met a pause (a chunk's target is a fraction of a ms anyway).
   */
  readonly #taskMeanMs = new Map<string, number>();
  /** Whether streams may send chunks (not to worker processes: see {@link chunkSize}). */
  readonly #chunks: boolean;

  constructor(options: ResolvedOptions) {
    this.#concurrency = options.concurrency;
    this.#chunks = options.isolation === 'thread';
  }

  /** A thread reported `count` jobs run in `busy` ms, all of `task` if it is given. */
  observe(busy: number, count: number, task?: string): void {
    if (count === 0) return;
    const perJob = busy / count;
    this.#jobMs = estimate(this.#jobMs, perJob);
    this.#meanMs = mean(this.#meanMs, perJob);
    if (task !== undefined) {
      this.#taskMs.set(task, estimate(this.#taskMs.get(task), perJob));
      this.#taskMeanMs.set(task, mean(this.#taskMeanMs.get(task), perJob));
    }
  }

  /**
   * Inputs a stream's chunk of `task` should carry (1: none), from what a job of the task
   * costs (known once a batch of its results came back alone). Chunks run their inputs one
   * after another and hold one governor slot: none with several jobs per thread or a governor.
   * None in worker processes either: there each result goes out as its job settles, so a
   * signal that kills the process loses none, and a chunk's answer would go out only whole.
   */
  chunkSize(task: string, governed: boolean): number {
    if (this.#concurrency !== 1 || governed || !this.#chunks) return 1;
    return chunkSize(this.#taskMeanMs.get(task));
  }

  /**
   * Inputs the pool may still send to a thread holding `jobs` jobs of `inputs` inputs
   * (a chunk counts as one job of many inputs), if the next is of `task`: sized by that
   * task's own cost once known (a 10 µs task and a 20 ms one run side by side), else by
   * the pool's.
   */
  room(inputs: number, jobs: number, task?: string): number {
    const jobMs = (task === undefined ? undefined : this.#taskMs.get(task)) ?? this.#jobMs;
    const prefetch =
      jobMs === undefined
        ? 1
        : Math.min(
            MAX_PREFETCH_INPUTS,
            Math.max(1, Math.floor(PREFETCH_MS / Math.max(jobMs, 1e-6))),
          );
    return Math.min(this.#concurrency + prefetch - inputs, this.#concurrency + MAX_PREFETCH - jobs);
  }

  /**
   * One tiny job in flight and nothing else to do: the caller is most likely awaiting it
   * (sequential round trips). Polling the port for a few µs takes its result without the
   * ~25 µs it costs to wake this thread from sleep. Never for slow jobs.
   */
  pollsLone(inFlight: number, queued: number): boolean {
    if (inFlight !== 1 || queued > 0) return false;
    return this.#jobMs !== undefined && this.#jobMs <= LONE_JOB_MS;
  }

  /**
   * With nothing queued and a thread idle, asks each thread with a backlog of unstarted
   * jobs to give half of it back, so a slow job never holds others while a thread idles.
   */
  balance(threads: Iterable<ThreadHandle<Job>>): void {
    // Tiny jobs are never worth a round trip back: the thread clears them about as soon
    // as a stolen share would reach another (a thread is meant to hold PREFETCH_MS of work).
    const jobMs = this.#meanMs;
    if (jobMs !== undefined && jobMs < STEAL_JOB_MS) return;
    for (const w of threads) {
      const most = w.units - this.#concurrency; // inputs: a chunk counts as its inputs
      if (most <= 0 || (jobMs !== undefined && most * jobMs < 2 * PREFETCH_MS)) continue;
      const backlog = w.held.unstarted();
      if (backlog === 0) continue;
      w.steal(Math.ceil(backlog / 2));
    }
  }
}

/**
 * The next figure of a run-time estimate: one slower result sets it at once (holding slow
 * jobs back costs far more than sending tiny ones in smaller batches for a while); faster
 * ones bring it down gradually.
 */
function estimate(was: number | undefined, now: number): number {
  return was === undefined || now >= was ? now : was * 0.75 + now * 0.25;
}

/** The next figure of a moving average. */
function mean(was: number | undefined, now: number): number {
  return was === undefined ? now : was * 0.75 + now * 0.25;
}

/**
 * Jobs that would be waiting (not started) with `queued` jobs queued (the one that asks
 * included): the queue and the jobs threads hold unstarted, less what the threads' free
 * places can start at once. Bounds `maxQueue` for `queueFull: 'reject'`.
 */
export function wouldWait(
  threads: Iterable<ThreadHandle<Job>>,
  options: ResolvedOptions,
  queued: number,
  inFlight: number,
): number {
  // At most this many: cheap, and enough unless the bound is near.
  if (queued + inFlight <= options.maxQueue) return queued + inFlight;
  let parked = 0; // held unstarted where the thread has no free place for them
  let free = 0; // free places left for queued jobs
  for (const w of threads) {
    const unstarted = w.held.prefetched();
    // Started jobs still held take a place (an aborted one that still runs included).
    const places = Math.max(0, options.concurrency - (w.load - unstarted));
    parked += Math.max(0, unstarted - places);
    if (w.state === 'ready' || w.state === 'starting') free += Math.max(0, places - unstarted);
  }
  return parked + Math.max(0, queued - free);
}

/** Jobs the threads hold and have not started, of the `inFlight` ones. */
export function prefetched(threads: Iterable<ThreadHandle<Job>>, inFlight: number): number {
  let n = 0;
  for (const w of threads) n += w.held.prefetched();
  return Math.min(n, inFlight);
}

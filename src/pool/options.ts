/**
 * The pool's options: one type with the defaults, one resolved type, one validator.
 * Every message names the option and shows the value received.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { InvalidOptionError } from '../util/errors.js';
import {
  checkArray,
  checkFunction,
  checkInteger,
  checkIntegerIn,
  checkKnown,
  checkObject,
  checkOneOf,
  isObject,
  isString,
} from '../util/validate.js';

export { checkInteger };
import { ModuleNotFoundError } from './errors.js';
import { checkTarget } from '../keyed/key-table.js';
import type { GovernorFor } from '../governor/governor.js';

/** What to do when a job arrives and the queue already holds `maxQueue` jobs. */
export type QueueFullPolicy = 'wait' | 'reject';

/** Every option of {@link Pool}; {@link PoolOptions} also requires `module` or `modules`. */
export interface PoolSettings {
  /**
   * The task module: a `file:` URL, or a path (relative paths resolve against the
   * current directory). Each exported function is a task; `default` is used when none is named.
   * Give either `module` or {@link PoolSettings.modules}.
   */
  module?: string | URL;
  /**
   * Several task modules on one pool, by name: every thread loads them all (and runs each
   * one's `init()`, in this order), and a task is named `name:task`, e.g. `img:resize`.
   * Names are non-empty and hold no `:`. Give either `modules` or {@link PoolSettings.module}.
   *
   * @example
   * ```ts
   * new Pool({ modules: { img: new URL('./img.js', import.meta.url), text: './text.js' } });
   * ```
   */
  modules?: Record<string, string | URL>;
  /**
   * Worker threads to run: a fixed count (`minThreads` = `maxThreads` = `threads`). Not
   * given together with `minThreads` or `maxThreads`.
   * @default os.availableParallelism()
   */
  threads?: number;
  /**
   * Makes the thread count elastic: the threads kept however idle (started with the pool;
   * `ready()` waits for them). Threads above it start when jobs wait and exit after
   * `idleTimeout` idle.
   * @default 1 when only `maxThreads` is given
   */
  minThreads?: number;
  /**
   * Makes the thread count elastic: the most threads alive at once.
   * @default max(minThreads, os.availableParallelism()) when only `minThreads` is given
   */
  maxThreads?: number;
  /**
   * With `minThreads`/`maxThreads`: how long (ms) a thread above `minThreads` may stay
   * idle before it runs `cleanup()` and exits.
   * @default 10000
   */
  idleTimeout?: number;
  /**
   * Jobs that may wait in the queue before {@link PoolSettings.queueFull} applies.
   * @default Infinity
   */
  maxQueue?: number;
  /**
   * With the queue at `maxQueue`: `'wait'` keeps the job waiting for room, behind
   * the queue (backpressure); `'reject'` rejects it with `ERR_QUEUE_FULL`.
   * @default 'wait'
   */
  queueFull?: QueueFullPolicy;
  /**
   * Jobs one thread runs at once. Raise it for tasks that mostly await I/O.
   * @default 1
   */
  concurrency?: number;
  /**
   * How many times a job may be started: a job whose thread dies, or that throws an
   * error marked `retryable()`, is started again while it has tries left. 1 means no retry.
   * @default 1
   */
  maxTries?: number;
  /**
   * Default run-time limit per job in ms (time queued does not count); 0 for none.
   * A job over it has its thread terminated and replaced.
   * @default 0
   */
  timeout?: number;
  /**
   * After a running job is aborted, how long (ms) it may take to settle before its thread is terminated.
   * @default 1000
   */
  abortGrace?: number;
  /** Passed to the task module as `ctx.workerData` (and to `init(ctx)`). Must be cloneable. */
  workerData?: unknown;
  /** V8 heap limits for each thread; a thread over them is replaced like a crashed one. */
  resourceLimits?: ResourceLimits;
  /**
   * Target of keys that were never given one with `pool.setTarget` (Infinity: no limit
   * beyond the threads).
   * @default Infinity
   */
  defaultTarget?: number;
  /**
   * Makes keyed targets cluster-wide: returns the governor of a key (e.g. a NATS
   * `Governor` from `corral/nats`), or undefined to limit that key locally only. A keyed
   * job first holds a slot in its key's governor, then runs, then frees the slot.
   */
  governor?: GovernorFor;
  /**
   * Node flags for the threads, e.g. `['--import', 'tsx']` to run `.ts` task modules.
   * @default process.execArgv
   */
  execArgv?: string[];
  /**
   * How long (ms) a thread may take to start (load the task module and run `init()`);
   * 0 for no limit. Past it the pool fails with `ERR_STARTUP_TIMEOUT` and the thread is
   * terminated; during a graceful shutdown the queued jobs reject with `ERR_POOL_CLOSED`.
   * @default 30000
   */
  startupTimeout?: number;
  /**
   * The span (ms) of `pool.stats().recent`, the figures over a recent window: at least 1000.
   * @default 60000
   */
  statsWindow?: number;
  /**
   * Replaces a thread once it is past a limit, before a leak in the task module grows
   * without end: the thread takes no new job, hands back the jobs it holds and has not
   * started (they go to the head of the queue, no try charged), finishes the ones it runs,
   * runs `cleanup()` and exits, and a new thread takes its place. No job fails because of
   * it. Counted in `stats().recycled` and the `threadRecycle` event, apart from crashes.
   * See {@link RecycleOptions}.
   *
   * @example
   * ```ts
   * new Pool({ module, recycle: { afterJobs: 10_000, heapAbove: 256 * 2 ** 20 } });
   * ```
   * @default undefined (threads are never recycled)
   */
  recycle?: RecycleOptions;
  /**
   * Where each worker runs: `'thread'`, a worker thread; `'process'`, a child process
   * running the same runtime and task modules, so that a native crash (a segfault, an
   * `abort()`) in a task kills only that process: it is replaced and its jobs are triaged
   * as a crashed thread's. In a process, inputs and results are copied (transfer lists
   * copy too), `resourceLimits` applies to the child's V8 heap through its `execArgv`, and
   * each process costs its own memory and start-up (see docs/long-runs.md).
   * @default 'thread'
   */
  isolation?: Isolation;
}

/** Where a pool's workers run (see {@link PoolSettings.isolation}). */
export type Isolation = 'thread' | 'process';

/** When a thread is recycled (see {@link PoolSettings.recycle}); either limit may be left out. */
export interface RecycleOptions {
  /**
   * After it has started this many jobs (a chunk counts as its inputs).
   * @default Infinity
   */
  afterJobs?: number;
  /**
   * Once its used V8 heap (`v8.getHeapStatistics().used_heap_size`, bytes) is above this,
   * measured in the thread after a job, at most about once per millisecond of work (so a
   * heap may pass the limit by what ~1 ms of tiny jobs, or one longer job, allocates).
   * Memory outside the V8 heap (Buffers, native addons) is not counted.
   * @default Infinity
   */
  heapAbove?: number;
}

/** {@link RecycleOptions} resolved: Infinity where no limit was given. */
export interface ResolvedRecycle {
  afterJobs: number;
  heapAbove: number;
}

/**
 * Options for {@link Pool}. One of `module` and `modules` is required (checked at run time
 * with `ERR_INVALID_OPTION`; the type leaves both optional so that option objects can be
 * built up and spread).
 */
export type PoolOptions = PoolSettings;

/** {@link PoolOptions} with every default applied and every value checked. */
export interface ResolvedOptions {
  /** The task module's `file:` URL; with `modules`, the first module's. */
  module: string;
  /** With `modules`: `[name, file: URL]`, in the order given. */
  modules: [string, string][] | undefined;
  /** Threads started with the pool and kept: `minThreads`. */
  threads: number;
  minThreads: number;
  maxThreads: number;
  idleTimeout: number;
  maxQueue: number;
  queueFull: QueueFullPolicy;
  concurrency: number;
  maxTries: number;
  timeout: number;
  abortGrace: number;
  workerData: unknown;
  resourceLimits: ResourceLimits | undefined;
  execArgv: string[] | undefined;
  startupTimeout: number;
  statsWindow: number;
  defaultTarget: number;
  governor: GovernorFor | undefined;
  recycle: ResolvedRecycle | undefined;
  isolation: Isolation;
}

/** The longest delay `setTimeout` honours (a longer one fires at once). */
const MAX_DELAY = 2 ** 31 - 1;

/** The heap and stack limits Node's `resourceLimits` knows; each must be a positive number. */
const RESOURCE_LIMITS = new Set([
  'maxYoungGenerationSizeMb',
  'maxOldGenerationSizeMb',
  'codeRangeSizeMb',
  'stackSizeMb',
]);

/** Checks a delay in ms: an integer from 0 up to what a timer can wait. */
function checkDelay(name: string, value: unknown): number {
  return checkIntegerIn(name, value, 0, MAX_DELAY, `an integer from 0 to ${MAX_DELAY} (ms)`);
}

/** Node ignores a limit it cannot read and starts a thread with a limit <= 0 out of memory. */
function checkResourceLimits(value: unknown): ResourceLimits | undefined {
  if (value === undefined) return undefined;
  for (const [key, limit] of Object.entries(checkObject('resourceLimits', value))) {
    if (!RESOURCE_LIMITS.has(key)) {
      throw new InvalidOptionError(
        `resourceLimits.${key}`,
        `one of ${[...RESOURCE_LIMITS].join(', ')}`,
        limit,
      );
    }
    if (limit !== undefined && !(typeof limit === 'number' && limit > 0 && limit < Infinity)) {
      throw new InvalidOptionError(`resourceLimits.${key}`, 'a positive number (MB)', limit);
    }
  }
  return value as ResourceLimits;
}

/** `recycle`: an object of `afterJobs` (an integer >= 1) and `heapAbove` (bytes, > 0). */
function checkRecycle(value: unknown): ResolvedRecycle | undefined {
  if (value === undefined) return undefined;
  const o = checkObject('recycle', value);
  for (const key of Object.keys(o)) {
    if (key !== 'afterJobs' && key !== 'heapAbove') {
      throw new InvalidOptionError(`recycle.${key}`, 'afterJobs or heapAbove', o[key]);
    }
  }
  const afterJobs = checkInteger('recycle.afterJobs', or(o.afterJobs, Infinity), 1, true);
  const heapAbove = or(o.heapAbove, Infinity);
  if (!(typeof heapAbove === 'number' && heapAbove > 0)) {
    throw new InvalidOptionError('recycle.heapAbove', 'a positive number (bytes)', heapAbove);
  }
  return afterJobs === Infinity && heapAbove === Infinity ? undefined : { afterJobs, heapAbove };
}

/** An option's value, or its default when it is absent (undefined, not null: null is checked). */
function or(value: unknown, fallback: unknown): unknown {
  return value === undefined ? fallback : value;
}

function resolveModule(value: unknown, name = 'module'): string {
  let url: URL;
  if (value instanceof URL) url = value;
  else if (typeof value === 'string' && value.length > 0) {
    if (/^[a-z][a-z\d+.-]*:\/\//i.test(value) || value.startsWith('file:')) url = new URL(value);
    else url = pathToFileURL(isAbsolute(value) ? value : resolve(value));
  } else {
    throw new InvalidOptionError(name, 'a file: URL or a non-empty path', value);
  }
  if (url.protocol !== 'file:') {
    throw new InvalidOptionError(name, 'a file: URL or a non-empty path', url.href);
  }
  if (!existsSync(fileURLToPath(url))) throw new ModuleNotFoundError(fileURLToPath(url));
  return url.href;
}

/** A module's name in `modules`: it prefixes its tasks (`name:task`), so it holds no `:`. */
const MODULE_NAME = /^[^:\s]+$/;

/** `module` or `modules`, exactly one of them: the modules as `[name, file: URL]`. */
function resolveModules(o: Record<string, unknown>): [string, string][] | undefined {
  if (o.modules === undefined) return undefined;
  if (o.module !== undefined) {
    throw new InvalidOptionError(
      'modules',
      'absent when `module` is given (give one of them)',
      o.modules,
    );
  }
  const value = o.modules;
  if (!isObject(value) || Array.isArray(value) || Object.keys(value).length === 0) {
    throw new InvalidOptionError('modules', 'an object of one or more name: module entries', value);
  }
  return Object.entries(value).map(([name, module]) => {
    if (!MODULE_NAME.test(name)) {
      throw new InvalidOptionError('modules', 'names without `:` or spaces', name);
    }
    return [name, resolveModule(module, `modules.${name}`)];
  });
}

/** Every option, once: the compiler checks the list against {@link PoolOptions}. */
const known = new Set(
  Object.keys({
    module: true,
    modules: true,
    threads: true,
    minThreads: true,
    maxThreads: true,
    idleTimeout: true,
    maxQueue: true,
    queueFull: true,
    concurrency: true,
    maxTries: true,
    timeout: true,
    abortGrace: true,
    workerData: true,
    resourceLimits: true,
    execArgv: true,
    startupTimeout: true,
    statsWindow: true,
    defaultTarget: true,
    governor: true,
    recycle: true,
    isolation: true,
  } satisfies Record<keyof PoolSettings, true>),
);

/**
 * `threads`, or `minThreads`/`maxThreads`/`idleTimeout`. Giving both forms is refused
 * rather than read as a shorthand: `threads: 4, maxThreads: 8` has no single meaning.
 */
function resolveThreads(o: Record<string, unknown>): {
  minThreads: number;
  maxThreads: number;
  idleTimeout: number;
} {
  const elastic = o.minThreads !== undefined || o.maxThreads !== undefined;
  if (!elastic) {
    if (o.idleTimeout !== undefined) {
      const expected = 'given only with minThreads or maxThreads (a fixed pool retires no thread)';
      throw new InvalidOptionError('idleTimeout', expected, o.idleTimeout);
    }
    const threads = checkInteger('threads', or(o.threads, availableParallelism()), 1);
    return { minThreads: threads, maxThreads: threads, idleTimeout: 0 };
  }
  if (o.threads !== undefined) {
    const expected = 'absent when minThreads or maxThreads is given (threads: n is a fixed count)';
    throw new InvalidOptionError('threads', expected, o.threads);
  }
  const min = o.minThreads === undefined ? undefined : checkInteger('minThreads', o.minThreads, 1);
  const max = checkInteger(
    'maxThreads',
    or(o.maxThreads, Math.max(min ?? 1, availableParallelism())),
    1,
  );
  const minThreads = min ?? 1;
  if (minThreads > max) {
    throw new InvalidOptionError(
      'minThreads',
      `an integer from 1 to maxThreads (${max})`,
      minThreads,
    );
  }
  return {
    minThreads,
    maxThreads: max,
    idleTimeout: checkDelay('idleTimeout', or(o.idleTimeout, 10_000)),
  };
}

/** Validates {@link PoolOptions} and fills in defaults. Throws {@link InvalidOptionError}. */
export function resolveOptions(options: unknown): ResolvedOptions {
  const o = checkObject('options', options);
  checkKnown(o, known);
  const queueFull = checkOneOf('queueFull', or(o.queueFull, 'wait'), ['wait', 'reject']);
  if (o.governor !== undefined) {
    checkFunction('governor', o.governor, 'a function from a key to a governor');
  }
  const { minThreads, maxThreads, idleTimeout } = resolveThreads(o);
  const modules = resolveModules(o);
  const execArgv =
    o.execArgv === undefined
      ? undefined
      : checkArray('execArgv', o.execArgv, isString, 'an array of strings');
  return {
    module: modules === undefined ? resolveModule(o.module) : (modules[0] as [string, string])[1],
    modules,
    threads: minThreads,
    minThreads,
    maxThreads,
    idleTimeout,
    maxQueue: checkInteger('maxQueue', or(o.maxQueue, Infinity), 0, true),
    queueFull,
    concurrency: checkInteger('concurrency', or(o.concurrency, 1), 1),
    maxTries: checkInteger('maxTries', or(o.maxTries, 1), 1),
    timeout: checkInteger('timeout', or(o.timeout, 0), 0),
    abortGrace: checkInteger('abortGrace', or(o.abortGrace, 1000), 0),
    workerData: o.workerData,
    resourceLimits: checkResourceLimits(o.resourceLimits),
    execArgv,
    startupTimeout: checkDelay('startupTimeout', or(o.startupTimeout, 30_000)),
    statsWindow: checkIntegerIn('statsWindow', or(o.statsWindow, 60_000), 1000, MAX_DELAY),
    defaultTarget: checkTarget(or(o.defaultTarget, Infinity), 'defaultTarget'),
    governor: o.governor as GovernorFor | undefined,
    recycle: checkRecycle(o.recycle),
    isolation: checkOneOf('isolation', or(o.isolation, 'thread'), ['thread', 'process']),
  };
}

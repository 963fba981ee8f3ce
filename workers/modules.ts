/**
 * Loads the thread's task modules: the pool's one `module`, or every module of `modules`
 * (all of them, at start-up, in the order given: see src/pool/modules.ts for why not lazily).
 * Gives the runtime one flat table of tasks, named `task` for one module and `name:task`
 * for several, and one `cleanup` that runs each module's.
 *
 * @module
 */
import { isMainThread, threadId } from 'node:worker_threads';
import type { BootData, StartFailedMessage } from '../src/protocol/messages.js';
import { toWire } from '../src/protocol/wire-error.js';
import type { JobContext } from './context.js';
import { loadTaskModule } from './load-module.js';

export type TaskFn = (input: unknown, ctx: JobContext) => unknown;

/** The modules loaded, their `init()`s run. */
export interface LoadedTasks {
  /** Task names; jobs name a task by its index here. */
  names: string[];
  /** The tasks, by the same index. */
  fns: TaskFn[];
  /** Runs every module's `cleanup()` (all of them, then throws the first error), if any has one. */
  cleanup: (() => Promise<void>) | undefined;
}

/** A module failed to load, or its `init()` threw. */
export interface LoadFailure {
  stage: 'load' | 'init';
  /** The module's name in `modules`; undefined for the pool's one `module`. */
  module: string | undefined;
  error: unknown;
}

/** The module load or `init()` being awaited, while one is (see {@link unsettledStart}). */
let awaiting: Omit<LoadFailure, 'error'> | undefined;

/** Loads every module, then runs their `init()`s in order; stops at the first failure. */
export async function loadTasks(boot: BootData): Promise<LoadedTasks | LoadFailure> {
  const entries: [string | undefined, string][] = boot.modules ?? [[undefined, boot.module]];
  const loaded: [string | undefined, Record<string, unknown>][] = [];
  for (const [name, href] of entries) {
    try {
      awaiting = { stage: 'load', module: name };
      loaded.push([name, await loadTaskModule(href)]);
    } catch (error) {
      return { stage: 'load', module: name, error };
    } finally {
      awaiting = undefined;
    }
  }
  const names: string[] = [];
  const fns: TaskFn[] = [];
  const cleanups: (() => unknown)[] = [];
  for (const [name, mod] of loaded) {
    for (const [task, value] of Object.entries(mod)) {
      if (typeof value !== 'function' || task === 'init' || task === 'cleanup') continue;
      names.push(name === undefined ? task : `${name}:${task}`);
      fns.push(value as TaskFn);
    }
    if (typeof mod.cleanup === 'function') cleanups.push(mod.cleanup as () => unknown);
  }
  for (const [name, mod] of loaded) {
    if (typeof mod.init !== 'function') continue;
    try {
      awaiting = { stage: 'init', module: name };
      // A worker process's id is its pid, as the pool names it.
      const id = isMainThread ? process.pid : threadId;
      await (mod.init as (ctx: unknown) => unknown)({ workerData: boot.workerData, threadId: id });
    } catch (error) {
      return { stage: 'init', module: name, error };
    } finally {
      awaiting = undefined;
    }
  }
  return { names, fns, cleanup: cleanups.length === 0 ? undefined : () => cleanAll(cleanups) };
}

/** Whether {@link loadTasks} failed. */
export function isFailure(result: LoadedTasks | LoadFailure): result is LoadFailure {
  return 'stage' in result;
}

/** One module's failing `cleanup()` does not keep the others from running. */
async function cleanAll(cleanups: (() => unknown)[]): Promise<void> {
  let first: { error: unknown } | undefined;
  for (const cleanup of cleanups) {
    try {
      await cleanup();
    } catch (error) {
      first ??= { error };
    }
  }
  if (first !== undefined) throw first.error;
}

/** What the pool is told of a {@link LoadFailure}. */
export function startFailed({ stage, module, error }: LoadFailure): StartFailedMessage {
  const message: StartFailedMessage = { type: 'start-failed', stage, error: toWire(error) };
  if (module !== undefined) message.module = module;
  return message;
}

/**
 * What the pool is told when the thread's event loop empties during start-up: the module's
 * load (a top-level await) or its `init()` returned a promise that nothing is left to
 * settle, so the thread would exit as if it had crashed. Undefined when nothing was pending.
 */
export function unsettledStart(): StartFailedMessage | undefined {
  if (awaiting === undefined) return undefined;
  const pending = awaiting;
  awaiting = undefined; // told once
  const what = pending.stage === 'init' ? 'init()' : 'the module (a top-level await)';
  const error = new Error(
    `${what} never settled: its promise was still pending when the thread had nothing left to run`,
  );
  return startFailed({ ...pending, error: Object.assign(error, { code: 'ERR_INIT_UNSETTLED' }) });
}

/**
 * A pool of several task modules (`modules: { img, text }`), on the main thread's side: which
 * task names may run, and what a thread's start-up failure becomes. Every thread loads every
 * module (see workers/modules.ts), so the task table the first thread reports is the
 * pool's, with names `module:task`.
 *
 * @module
 */
import type { ResolvedOptions } from './options.js';
import { ModuleLoadError, UnknownTaskError, WorkerInitError } from './errors.js';

/** Separates a module's name from its task's in a pool of several modules. */
export const MODULE_SEPARATOR = ':';

/**
 * Why a job of `task` cannot run, or undefined if it may. `tasks` is the task table once a
 * thread reported it; before that only a module name absent from `modules` is refused.
 */
export function refuseTask(
  options: ResolvedOptions,
  task: string,
  tasks: ReadonlyMap<string, number> | undefined,
): UnknownTaskError | undefined {
  if (tasks?.has(task) === true) return undefined;
  const modules = options.modules;
  if (modules !== undefined) {
    const at = task.indexOf(MODULE_SEPARATOR);
    const name = at < 0 ? undefined : task.slice(0, at);
    if (name === undefined || !modules.some(([n]) => n === name)) {
      const names = modules.map(([n]) => n).join(', ');
      const why =
        name === undefined
          ? `the pool has several modules: name a task as 'module:task' (modules: ${names}), not '${task}'`
          : `the pool has no module named '${name}' (modules: ${names}), so no task '${task}'`;
      return new UnknownTaskError(task, [], why);
    }
  }
  if (tasks === undefined) return undefined;
  return new UnknownTaskError(task, [...tasks.keys()]);
}

/** The error a pool fails with when a thread could not load a module or run its `init()`. */
export function startError(
  options: ResolvedOptions,
  stage: 'load' | 'init',
  module: string | undefined,
  cause: unknown,
): Error {
  const href =
    module === undefined ? options.module : options.modules?.find(([n]) => n === module)?.[1];
  if (stage === 'load') return new ModuleLoadError(href ?? options.module, { cause }, module);
  const unsettled = (cause as { code?: unknown } | null)?.code === 'ERR_INIT_UNSETTLED';
  return new WorkerInitError(
    { cause },
    module,
    unsettled
      ? 'never settled: its promise was still pending when the thread had nothing left to run'
      : undefined,
  );
}

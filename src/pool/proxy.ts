/**
 * The types of a task module, and typed proxies over it. `TaskName`, `TaskInput` and
 * `TaskResult` say what a module `M` (`typeof import('./worker.js')`) accepts; the typed
 * `Pool<M>` checks `do`, `execute` and `wrap` with them, and `pool.proxy()` maps them to
 * methods, each call a pool job through the dispatcher.
 *
 * comlink's `Remote<T>` types every parameter of a function; a task's second parameter
 * (`ctx`) is supplied by the pool, not the caller, so the mapping is written here.
 */
import type { Transfer } from '../../workers/index.js';
import type { JobOptions } from './job.js';

/** Options for one proxied call: the job options without `task`, which the method names. */
export type ProxyCallOptions = Omit<JobOptions, 'task'>;

/**
 * The task names of a module `M`: every exported function of at most two parameters
 * (input, ctx) but `init` and `cleanup`. `'default'` is one when the module has a default export.
 */
export type TaskName<M> = {
  [K in keyof M]: K extends 'init' | 'cleanup'
    ? never
    : M[K] extends (input: never, ctx: never) => unknown
      ? K
      : never;
}[keyof M] &
  string;

/**
 * What task `K` of `M` takes: its first parameter, `undefined` if it has none; `never` for no
 * task (a typed pool's default task when the module has no default export).
 */
export type TaskInput<M, K extends TaskName<M>> = [K] extends [never]
  ? never
  : M[K] extends (...args: infer A) => unknown
    ? A extends []
      ? undefined
      : A[0]
    : never;

/**
 * What the caller receives from task `K` of `M`: its awaited result, and the value inside
 * when the task returns a `Transfer` (`transfer(value, list)` from `corral/worker`).
 */
export type TaskResult<M, K extends TaskName<M>> = M[K] extends (...args: never) => infer R
  ? Unwrap<Awaited<R>>
  : never;

/** The runtime hands the caller `value` of a `Transfer`; distributes over unions. */
type Unwrap<R> = R extends Transfer<infer T> ? T : R;

/** Options for a job of a typed pool: `task`, if given, is one of the module's tasks. */
export type TaskJobOptions<M, K extends TaskName<M>> = ProxyCallOptions & { task?: K };

/**
 * `T` on an untyped pool (`Pool`, i.e. `Pool<unknown>`, or `Pool<any>`), `never` on a typed
 * one: shuts the untyped overloads of `do`, `execute` and `wrap` to a typed pool.
 */
export type Untyped<M, T> = unknown extends M ? T : never;

/** The task a typed pool runs when none is named: `'default'`, or `never` if `M` has no default export. */
export type DefaultTask<M> = TaskName<M> & 'default';

/** The tasks of a module `M` as methods: `proxy.fib(30)` runs task `fib` with input 30. */
export type PoolProxy<M> = {
  readonly [K in TaskName<M>]: M[K] extends (...args: infer A) => unknown
    ? A extends []
      ? (input?: undefined, options?: ProxyCallOptions) => Promise<TaskResult<M, K>>
      : (input: TaskInput<M, K>, options?: ProxyCallOptions) => Promise<TaskResult<M, K>>
    : never;
};

/** Builds the proxy over a `do` function. */
export function makeProxy<M>(
  run: (task: string, input: unknown, options: ProxyCallOptions | undefined) => Promise<unknown>,
): PoolProxy<M> {
  return new Proxy(
    {},
    {
      get(_target, property) {
        // Not a thenable: `await pool.proxy()` must give the proxy itself.
        if (typeof property !== 'string' || property === 'then') return undefined;
        return (input: unknown, options?: ProxyCallOptions) => run(property, input, options);
      },
    },
  ) as PoolProxy<M>;
}

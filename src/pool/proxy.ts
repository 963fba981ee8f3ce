/**
 * Typed proxies: `pool.proxy<typeof import('./math-worker.js')>()` returns an object
 * whose methods are the module's tasks, each call a pool job through the dispatcher.
 *
 * comlink's `Remote<T>` types every parameter of a function; a task's second parameter
 * (`ctx`) is supplied by the pool, not the caller, so the mapping is written here.
 */
import type { JobOptions } from './job.js';

/** Options for one proxied call: the job options without `task`, which the method names. */
export type ProxyCallOptions = Omit<JobOptions, 'task'>;

/** The tasks of a module `M`: every exported function but `init` and `cleanup`. */
export type PoolProxy<M> = {
  readonly [
    K in keyof M as K extends 'init' | 'cleanup'
      ? never
      : M[K] extends (input: never, ctx: never) => unknown
        ? K
        : never
  ]: M[K] extends (...args: infer A) => infer R
    ? A extends []
      ? (input?: undefined, options?: ProxyCallOptions) => Promise<Awaited<R>>
      : (input: A[0], options?: ProxyCallOptions) => Promise<Awaited<R>>
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

import { describe, expectTypeOf, it } from 'vitest';
import type { Pool, PoolProxy, ProxyCallOptions } from 'corral';

type MathWorker = typeof import('../fixtures/math-worker.mjs');
type Math = PoolProxy<MathWorker>;

declare const pool: Pool;

describe('typed proxy types', () => {
  it('makes each exported task a method taking its input and returning a promise', () => {
    expectTypeOf(pool.proxy<MathWorker>()).toEqualTypeOf<Math>();
    expectTypeOf<Math['fib']>().parameter(0).toEqualTypeOf<number>();
    expectTypeOf<Math['fib']>().returns.toEqualTypeOf<Promise<number>>();
    // An async task's promise is not nested.
    expectTypeOf<Math['shout']>().returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf<Math['counted']>()
      .parameter(0)
      .toEqualTypeOf<{ log: string; ms: number; value: string }>();
    expectTypeOf<Math['fib']>().parameter(1).toEqualTypeOf<ProxyCallOptions | undefined>();
  });

  it('lets a task without parameters be called without input', () => {
    expectTypeOf<Math['pid']>().toEqualTypeOf<
      (input?: undefined, options?: ProxyCallOptions) => Promise<number>
    >();
  });

  it('leaves out init, cleanup and anything that is not a task', () => {
    expectTypeOf<Math>().not.toHaveProperty('init');
    expectTypeOf<Math>().not.toHaveProperty('then');
    expectTypeOf<keyof Math>().toEqualTypeOf<'fib' | 'shout' | 'pid' | 'counted'>();
  });

  it('rejects an input of the wrong type and the task option', () => {
    const call = (math: Math): void => {
      // @ts-expect-error fib takes a number
      void math.fib('x');
      // @ts-expect-error the method names the task
      void math.fib(1, { task: 'shout' });
    };
    expectTypeOf(call).toBeFunction();
  });
});

import { describe, expectTypeOf, it } from 'vitest';
import {
  CorralError,
  JobTimeoutError,
  Pool,
  type Outcome,
  type PoolProxy,
  type TaskInput,
  type TaskName,
  type TaskResult,
} from 'corral';
import type { TaskContext, Transfer } from 'corral/worker';

type MathWorker = typeof import('../fixtures/math-worker.mjs');
type Tasks = typeof import('../fixtures/tasks.mjs');

/** A module written in TypeScript, with what the fixtures lack: `Transfer` results, non-tasks. */
interface Written {
  default(n: number): string;
  render(size: number): Transfer<Uint8Array>;
  load(path: string, ctx: TaskContext): Promise<Transfer<ArrayBuffer> | null>;
  init(): void;
  cleanup(): Promise<void>;
  version: string;
  helper(a: number, b: number, c: number): number;
}

declare const math: Pool<MathWorker>;
declare const tasks: Pool<Tasks>;
declare const written: Pool<Written>;
declare const untyped: Pool;

describe('the types of a task module', () => {
  it('names its tasks: exported functions of (input, ctx), not init or cleanup', () => {
    expectTypeOf<TaskName<MathWorker>>().toEqualTypeOf<'fib' | 'shout' | 'pid' | 'counted'>();
    expectTypeOf<TaskName<Written>>().toEqualTypeOf<'default' | 'render' | 'load'>();
    expectTypeOf<TaskName<unknown>>().toBeNever();
  });

  it("takes a task's first parameter as input and its awaited, unwrapped return as result", () => {
    expectTypeOf<TaskInput<MathWorker, 'pid'>>().toEqualTypeOf<undefined>();
    expectTypeOf<TaskInput<Written, 'load'>>().toEqualTypeOf<string>();
    expectTypeOf<TaskResult<MathWorker, 'shout'>>().toEqualTypeOf<string>();
    expectTypeOf<TaskResult<Written, 'render'>>().toEqualTypeOf<Uint8Array>();
    expectTypeOf<TaskResult<Written, 'load'>>().toEqualTypeOf<ArrayBuffer | null>();
    // transfer() is typed to return its value, so a .mjs module's result is already unwrapped.
    expectTypeOf<TaskResult<Tasks, 'bytes'>>().toEqualTypeOf<Uint8Array<ArrayBuffer>>();
  });
});

describe('a typed pool', () => {
  it('is made by giving new Pool the module type', () => {
    const pool = new Pool<MathWorker>({ module: 'math-worker.mjs' });
    expectTypeOf(pool).toEqualTypeOf<Pool<MathWorker>>();
    // Code written for any pool takes it through a type parameter.
    const stop = <M>(p: Pool<M>): Promise<void> => p.shutdown();
    expectTypeOf(stop(pool)).toEqualTypeOf<Promise<void>>();
  });

  it("do: the named task's input and result; 'default' when no task is named", async () => {
    expectTypeOf(math.do(30, { task: 'fib' })).toEqualTypeOf<Promise<number>>();
    expectTypeOf(math.do('hi', { task: 'shout', timeout: 100 })).toEqualTypeOf<Promise<string>>();
    expectTypeOf(math.do(undefined, { task: 'pid' })).toEqualTypeOf<Promise<number>>();
    expectTypeOf(tasks.do(1)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(tasks.do(1, { timeout: 5 })).toEqualTypeOf<Promise<number>>();
    expectTypeOf(tasks.do({ a: 1, b: 2 }, { task: 'add' })).toEqualTypeOf<Promise<number>>();
    expectTypeOf(written.do(3)).toEqualTypeOf<Promise<string>>();
    expectTypeOf(written.do(3, { task: 'render' })).toEqualTypeOf<Promise<Uint8Array>>();
    const n: number = await math.do(30, { task: 'fib' });
    expectTypeOf(n).toBeNumber();
  });

  it('do: a wrong task name, input or result does not compile', async () => {
    // @ts-expect-error: 'fibb' is not a task of the module.
    void math.do(30, { task: 'fibb' });
    // @ts-expect-error: init is not a task.
    void math.do(undefined, { task: 'init' });
    // @ts-expect-error: nor is an export that is not a function.
    void written.do(undefined, { task: 'version' });
    // @ts-expect-error: nor a function of three parameters.
    void written.do(1, { task: 'helper' });
    // @ts-expect-error: math-worker has no default export, so a task must be named.
    void math.do(30);
    // @ts-expect-error: fib takes a number.
    void math.do('30', { task: 'fib' });
    // @ts-expect-error: add takes { a, b }.
    void tasks.do({ a: 1 }, { task: 'add' });
    // @ts-expect-error: the default task (inc) takes a number.
    void tasks.do('1');
    // @ts-expect-error: fib returns a number.
    const s: string = await math.do(30, { task: 'fib' });
    // @ts-expect-error: render's caller gets the Uint8Array, not the Transfer.
    const t: Transfer<Uint8Array> = await written.do(1, { task: 'render' }); // eslint-disable-line @typescript-eslint/no-unsafe-class-instance-assignment
    // @ts-expect-error: a typed pool takes no result type argument: the module says it.
    void math.do<string>(30, { task: 'fib' });
    const name: string = 'fib';
    // @ts-expect-error: the task must be known at compile time.
    void math.do(30, { task: name });
    expectTypeOf([s, t]).toBeArray();
  });

  it('execute and wrap: typed inputs, callbacks and outcomes', () => {
    expectTypeOf(math.execute([1, 2], { task: 'fib' })).toEqualTypeOf<
      AsyncIterableIterator<Outcome<number, number>>
    >();
    expectTypeOf(tasks.execute([1, 2])).toEqualTypeOf<
      AsyncIterableIterator<Outcome<number, number>>
    >();
    async function* names(): AsyncGenerator<string> {
      yield await Promise.resolve('a');
    }
    expectTypeOf(written.wrap(names(), { task: 'load', ordered: true })).toEqualTypeOf<
      AsyncIterableIterator<Outcome<string, ArrayBuffer | null>>
    >();
    void math.execute([1], {
      task: 'fib',
      key: (input, index) => {
        expectTypeOf(input).toBeNumber();
        expectTypeOf(index).toBeNumber();
        return undefined;
      },
      onProgress: (index, value) => {
        expectTypeOf(index).toBeNumber();
        expectTypeOf(value).toBeUnknown();
      },
    });
  });

  it('execute and wrap: a wrong task name, input or result does not compile', async () => {
    // @ts-expect-error: 'fibb' is not a task of the module.
    void math.execute([1], { task: 'fibb' });
    // @ts-expect-error: fib takes numbers.
    void math.execute(['1'], { task: 'fib' });
    // @ts-expect-error: shout takes strings.
    void math.wrap([1, 2], { task: 'shout' });
    // @ts-expect-error: a key function of the wrong input type.
    void math.execute([1], { task: 'fib', key: (s: string) => s });
    for await (const o of math.wrap([1], { task: 'fib' })) {
      // @ts-expect-error: fib's outcomes carry numbers.
      if (o.ok) o.value.toUpperCase(); // eslint-disable-line @typescript-eslint/no-unsafe-call
    }
  });

  it("proxy: the pool's module by default", () => {
    expectTypeOf(math.proxy()).toEqualTypeOf<PoolProxy<MathWorker>>();
    expectTypeOf(written.proxy().render).returns.toEqualTypeOf<Promise<Uint8Array>>();
    expectTypeOf(untyped.proxy<MathWorker>()).toEqualTypeOf<PoolProxy<MathWorker>>();
  });
});

describe('an untyped pool', () => {
  it('is Pool<unknown>, and new Pool gives one', () => {
    expectTypeOf(new Pool({ module: 'tasks.mjs' })).toEqualTypeOf<Pool>();
    expectTypeOf<Pool>().toEqualTypeOf<Pool>();
  });

  it('takes any input and task, and its type argument for the result, as before', () => {
    expectTypeOf(untyped.do(1)).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(untyped.do<number>('x', { task: 'anything' })).toEqualTypeOf<Promise<number>>();
    const task: string = 'fib';
    expectTypeOf(untyped.do<number>(30, { task })).toEqualTypeOf<Promise<number>>();
    expectTypeOf(untyped.execute([1, 2], { task })).toEqualTypeOf<
      AsyncIterableIterator<Outcome<number>>
    >();
    expectTypeOf(untyped.wrap<string, number>(['a'], { task })).toEqualTypeOf<
      AsyncIterableIterator<Outcome<string, number>>
    >();
    void untyped.execute([1], { onProgress: (index: number, value: unknown) => [index, value] });
  });
});

describe("corral's error codes", () => {
  it('are a union, so a misspelt code does not compile', async () => {
    try {
      await math.do(30, { task: 'fib' });
    } catch (e) {
      if (e instanceof CorralError) {
        expectTypeOf(e.code).toEqualTypeOf<CorralError['code']>();
        // @ts-expect-error: 'ERR_TYPO' is not one of the codes.
        if (e.code === 'ERR_TYPO') throw e;
        if (e.code === 'ERR_JOB_TIMEOUT') return;
      }
      if (e instanceof JobTimeoutError) {
        // @ts-expect-error: nor on a subclass.
        if (e.code === 'ERR_TIMEOUT') throw e;
      }
    }
  });
});

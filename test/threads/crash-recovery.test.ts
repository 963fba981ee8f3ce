import { afterEach, describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { fixture, rejection, tasks, until } from '../helpers/index.js';

let pool: Pool | undefined;
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

/** Small heaps so the out-of-memory case dies fast. */
const resourceLimits = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 };

describe('a thread that dies is replaced, and its job rejects', () => {
  const ways = [
    ['an uncaught throw', { how: 'throw' }, 'ERR_WORKER_CRASHED', /uncaught in the worker/],
    ['process.exit', { how: 'exit' }, 'ERR_WORKER_CRASHED', /exited with code 3/],
    ['running out of memory', { how: 'oom' }, 'ERR_WORKER_CRASHED', /memory/i],
    ['a timeout', { how: 'hang' }, 'ERR_JOB_TIMEOUT', /timeout of 300 ms/],
  ] as const;

  for (const [name, input, code, cause] of ways) {
    it(`by ${name}`, async () => {
      const p = new Pool({ module: tasks, threads: 2, resourceLimits });
      pool = p;
      // Only the hang gets a timeout: an out-of-memory death on a busy machine may take longer.
      const timeout = input.how === 'hang' ? 300 : 0;
      const error = await rejection(p.do(input, { task: 'crash', timeout }));
      expect(error.code).toBe(code);
      const text = code === 'ERR_JOB_TIMEOUT' ? error.message : (error.cause as Error).message;
      expect(text).toMatch(cause);
      // The pool keeps working, with its full thread count.
      const results = await Promise.all([1, 2, 3, 4].map((n) => p.do(n)));
      expect(results).toEqual([2, 3, 4, 5]);
      await until(() => p.stats().crashes === 1 && p.stats().threads === 2);
    });
  }
});

describe('retries', () => {
  it('retries a job whose thread crashed, on another thread, while it has tries left', async () => {
    pool = new Pool({ module: tasks, threads: 2, maxTries: 3, resourceLimits });
    for (const how of ['throw', 'exit', 'oom', 'hang'] as const) {
      const timeout = how === 'hang' ? 300 : 0;
      const value = await pool.do({ how, value: how, onTries: [1, 2] }, { task: 'crash', timeout });
      expect(value).toBe(how);
    }
    const p = pool;
    const log = JSON.stringify(p.stats());
    await until(() => p.stats().crashes === 8);
    expect(p.stats().retried, log).toBe(8);
  });

  it('rejects with the crash once the tries are used up', async () => {
    pool = new Pool({ module: tasks, threads: 1, maxTries: 2 });
    const error = await rejection(pool.do({ how: 'exit', onTries: [1, 2] }, { task: 'crash' }));
    expect(error.code).toBe('ERR_WORKER_CRASHED');
    expect(pool.stats().retried).toBe(1);
  });

  it('retries an error marked retryable, and rejects with it when tries run out', async () => {
    pool = new Pool({ module: tasks, threads: 1 });
    expect(await pool.do(3, { task: 'flaky', maxTries: 3 })).toBe(3);
    const error = await rejection(pool.do(5, { task: 'flaky', maxTries: 2 }));
    expect(error.message).toBe('try 2 failed');
    // A plain error is never retried.
    await rejection(pool.do({ message: 'no' }, { task: 'fail', maxTries: 5 }));
    expect(pool.stats().retried).toBe(3);
  });

  it('does not charge a try to jobs that were waiting on the crashed thread', async () => {
    const p = new Pool({ module: tasks, threads: 1, concurrency: 1 });
    pool = p;
    // Queue several jobs behind a crashing one on a single thread.
    const crash = p.do({ how: 'exit' }, { task: 'crash' });
    const behind = [1, 2, 3].map(() => p.do(null, { task: 'tries' }));
    await rejection(crash);
    expect(await Promise.all(behind)).toEqual([1, 1, 1]);
  });
});

describe('start-up failures fail the pool with a clear error, never a hang or a restart loop', () => {
  it('a module that does not load: ERR_MODULE_LOAD', async () => {
    pool = new Pool({ module: fixture('load-error.mjs'), threads: 2 });
    const error = await rejection(pool.do(1));
    expect(error.code).toBe('ERR_MODULE_LOAD');
    expect((error.cause as Error).message).toMatch(/no-such-module/);
    expect((await rejection(pool.ready())).code).toBe('ERR_MODULE_LOAD');
    expect(pool.state).toBe('failed');
  });

  it('an init() that throws: ERR_WORKER_INIT with the cause', async () => {
    pool = new Pool({ module: fixture('init-throws.mjs'), threads: 2 });
    const error = await rejection(pool.do(1));
    expect(error.code).toBe('ERR_WORKER_INIT');
    expect((error.cause as Error & { code: string }).code).toBe('E_TABLE');
  });

  it('threads that die while starting: ERR_WORKER_STARTUP after a few attempts', async () => {
    pool = new Pool({ module: fixture('start-crash.mjs'), threads: 2 });
    const started: number[] = [];
    pool.on('threadExit', ({ threadId }) => started.push(threadId));
    const error = await rejection(pool.do(1));
    expect(error.code).toBe('ERR_WORKER_STARTUP');
    await pool.shutdown();
    expect(started.length).toBeLessThanOrEqual(4);
  });
});

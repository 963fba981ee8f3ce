import { afterEach, describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { fixture, rejection } from '../helpers/index.js';

type MathWorker = typeof import('../fixtures/math-worker.mjs');

let pool: Pool | undefined;
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

describe('typed proxy', () => {
  it('calls tasks as methods, each call a pool job', async () => {
    pool = new Pool({ module: fixture('math-worker.mjs'), threads: 2 });
    const math = pool.proxy<MathWorker>();
    expect(await math.fib(20)).toBe(6765);
    expect(await math.shout('hi')).toBe('HI');
    const [a, b] = await Promise.all([math.fib(10), math.fib(11)]);
    expect(a + b).toBe(144);
    expect(pool.stats().completed).toBe(4);
    // A name the module does not export is a job that rejects like any unknown task.
    const loose = math as unknown as Record<string, (x: unknown) => Promise<unknown>>;
    expect((await rejection(loose.nope?.(1) ?? Promise.resolve())).code).toBe('ERR_UNKNOWN_TASK');
  });

  it('is not a thenable, so it can be awaited or returned from async functions', async () => {
    pool = new Pool({ module: fixture('math-worker.mjs'), threads: 1 });
    const math = await Promise.resolve(pool.proxy<MathWorker>());
    expect(await math.fib(5)).toBe(5);
  });

  it('passes job options through', async () => {
    pool = new Pool({ module: fixture('math-worker.mjs'), threads: 1 });
    const math = pool.proxy<MathWorker>();
    const error = await rejection(math.fib(10, { signal: AbortSignal.abort('no') }));
    expect(error.name).toBe('AbortError');
  });
});

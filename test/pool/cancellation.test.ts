import { afterEach, describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { rejection, tasks, until } from '../helpers/index.js';

let pool: Pool | undefined;
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

describe('cancellation', () => {
  it('removes an aborted job from the queue at once, and it never runs', async () => {
    pool = new Pool({ module: tasks, threads: 1 });
    await pool.ready();
    const blocker = pool.do(300, { task: 'spin' });
    const controller = new AbortController();
    let ran = false;
    const queued = pool.do(5, {
      task: 'progress',
      signal: controller.signal,
      onProgress: () => (ran = true),
    });
    // The job may wait in the pool's queue or in the thread's own (prefetched): both count.
    await until(() => (pool?.stats().running ?? 0) >= 1);
    controller.abort(new Error('changed my mind'));
    const error = await rejection(queued);
    expect(error.name).toBe('AbortError');
    expect((error.cause as Error).message).toBe('changed my mind');
    expect(await blocker).toBe(300);
    expect(await pool.do(1)).toBe(2);
    expect(ran).toBe(false);
    expect(pool.stats()).toMatchObject({ completed: 2, failed: 1, crashes: 0 });
  });

  it('rejects at once for a signal that is already aborted', async () => {
    pool = new Pool({ module: tasks, threads: 1 });
    const error = await rejection(pool.do(1, { signal: AbortSignal.abort('early') }));
    expect(error.name).toBe('AbortError');
    expect(error.cause).toBe('early');
  });

  it('aborts ctx.signal of a running job; a task that honours it frees its thread', async () => {
    pool = new Pool({ module: tasks, threads: 1, abortGrace: 5_000 });
    const controller = new AbortController();
    const running = pool.do(60_000, { task: 'sleep', signal: controller.signal });
    // Running: the thread started the task (which listens to its signal before it yields).
    await until(() => pool?.stats().running === 1);
    controller.abort('stop');
    const error = await rejection(running);
    expect(error.name).toBe('AbortError');
    expect(error.cause).toBe('stop');
    // The same thread goes on: nothing was terminated.
    expect(await pool.do(1)).toBe(2);
    expect(pool.stats().crashes).toBe(0);
  });

  it('terminates and replaces a thread whose aborted job ignores its signal past abortGrace', async () => {
    pool = new Pool({ module: tasks, threads: 1, abortGrace: 100 });
    const crashes: unknown[] = [];
    pool.on('threadCrash', ({ error }) => crashes.push(error));
    const controller = new AbortController();
    const running = pool.do(60_000, { task: 'spin', signal: controller.signal });
    // Running: the thread started the task (which listens to its signal before it yields).
    await until(() => pool?.stats().running === 1);
    controller.abort();
    expect((await rejection(running)).name).toBe('AbortError');
    await until(() => crashes.length === 1);
    expect((crashes[0] as Error).message).toMatch(/abortGrace/);
    expect(await pool.do(1)).toBe(2);
  });
});

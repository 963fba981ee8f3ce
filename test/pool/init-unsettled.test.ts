/**
 * An init() whose promise nothing will settle, in a thread that keeps nothing else alive:
 * the thread's event loop empties during start-up. That is one failure naming init()
 * (ERR_WORKER_INIT, cause ERR_INIT_UNSETTLED), not crashes, nor a timeout (issue 18, item 2).
 * And the shutdown of a pool that never ran ends its jobs with ERR_POOL_CLOSED.
 */
import { describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { fixture, rejection, tasks } from '../helpers/index.js';

const module = fixture('init-unsettled.mjs');

describe('an init() that never settles', () => {
  it('fails the pool at once with ERR_WORKER_INIT naming init(), no thread counted as crashed', async () => {
    const pool = new Pool({ module, threads: 2, startupTimeout: 60_000 });
    let crashes = 0;
    pool.on('threadCrash', () => crashes++);
    const job = rejection(pool.do(1));
    const error = await rejection(pool.ready());
    expect(error.code).toBe('ERR_WORKER_INIT');
    expect(error.message).toMatch(/init\(\) never settled/);
    expect((error.cause as { code?: string }).code).toBe('ERR_INIT_UNSETTLED');
    expect((await job).code).toBe('ERR_WORKER_INIT');
    expect(crashes).toBe(0);
    expect(pool.stats().crashes).toBe(0);
    await pool.shutdown();
  });

  it('in a pool of several modules, names the module', async () => {
    const pool = new Pool({ modules: { ok: tasks, stuck: module }, threads: 1 });
    const error = await rejection(pool.ready());
    expect(error.code).toBe('ERR_WORKER_INIT');
    expect(error.message).toMatch(/'stuck' never settled/);
    await pool.shutdown();
  });

  it('a graceful shutdown while it starts rejects the waiting jobs with ERR_POOL_CLOSED', async () => {
    const pool = new Pool({ module, threads: 2 });
    const job = rejection(pool.do(1));
    await pool.shutdown();
    expect(pool.state).toBe('closed');
    const error = await job;
    expect(error.code).toBe('ERR_POOL_CLOSED');
    expect((error.cause as { code?: string }).code).toBe('ERR_WORKER_INIT');
  });

  it('do() after the shutdown of a failed pool rejects with ERR_POOL_CLOSED', async () => {
    const pool = new Pool({ module, threads: 1 });
    expect((await rejection(pool.ready())).code).toBe('ERR_WORKER_INIT');
    expect((await rejection(pool.do(1))).code).toBe('ERR_WORKER_INIT'); // failed, not yet shut down
    await pool.shutdown();
    const error = await rejection(pool.do(1));
    expect(error.code).toBe('ERR_POOL_CLOSED');
    expect((error.cause as { code?: string }).code).toBe('ERR_WORKER_INIT');
  });
});

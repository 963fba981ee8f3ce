import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { fixture, rejection, tasks, tempDir, until } from '../helpers/index.js';

const run = promisify(execFile);

describe('graceful shutdown', () => {
  it('lets queued and running jobs finish, runs cleanup on every thread, then refuses new jobs', async () => {
    const log = join(tempDir(), 'log');
    const pool = new Pool({ module: fixture('lifecycle.mjs'), threads: 2, workerData: { log } });
    const jobs = [200, 200, 200, 200, 200].map((ms) => pool.do(ms, { task: 'slow' }));
    await until(() => pool.stats().running > 0);
    const closed = pool.shutdown();
    expect(pool.state).toBe('closing');
    expect((await rejection(pool.do(1))).code).toBe('ERR_POOL_CLOSED');
    const results = await Promise.all(jobs);
    expect(results).toHaveLength(5);
    await closed;
    expect(pool.state).toBe('closed');
    expect(pool.stats().threads).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.filter((l) => l.startsWith('cleanup'))).toHaveLength(2);
    expect((await rejection(pool.do(1))).code).toBe('ERR_POOL_CLOSED');
  });

  it('is idempotent', async () => {
    const pool = new Pool({ module: tasks, threads: 1 });
    await pool.do(1);
    const a = pool.shutdown();
    const b = pool.shutdown();
    await Promise.all([a, b]);
    await pool.shutdown();
    expect(pool.state).toBe('closed');
  });

  it('works with await using', async () => {
    let outer: Pool | undefined;
    {
      await using pool = new Pool({ module: tasks, threads: 1 });
      outer = pool;
      expect(await pool.do(1)).toBe(2);
    }
    expect(outer.state).toBe('closed');
  });

  it('closes a pool whose threads are still starting', async () => {
    const pool = new Pool({ module: tasks, threads: 2 });
    await pool.shutdown();
    expect(pool.state).toBe('closed');
  });
});

describe('forced shutdown', () => {
  it('rejects queued and running jobs with ERR_POOL_CLOSED and terminates the threads', async () => {
    const pool = new Pool({ module: tasks, threads: 1 });
    const running = rejection(pool.do(60_000, { task: 'spin' }));
    const queued = rejection(pool.do(1));
    await until(() => pool.stats().running > 0);
    await pool.shutdown({ force: true });
    expect((await running).code).toBe('ERR_POOL_CLOSED');
    expect((await queued).code).toBe('ERR_POOL_CLOSED');
    expect(pool.state).toBe('closed');
    expect(pool.stats().threads).toBe(0);
  });

  it('turns a graceful shutdown under way into a forced one', async () => {
    const pool = new Pool({ module: tasks, threads: 1 });
    const running = rejection(pool.do(60_000, { task: 'spin' }));
    await until(() => pool.stats().running > 0);
    const graceful = pool.shutdown();
    await pool.shutdown({ force: true });
    await graceful;
    expect((await running).code).toBe('ERR_POOL_CLOSED');
  });
});

describe('the process exits on its own', () => {
  it('after shutdown', async () => {
    const { stdout } = await run(process.execPath, [fixture('exit-after-shutdown.mjs')], {
      timeout: 20_000,
    });
    expect(stdout).toBe('[2,3,4]');
  });

  it('with an idle pool that was never shut down', async () => {
    const { stdout } = await run(process.execPath, [fixture('exit-without-shutdown.mjs')], {
      timeout: 20_000,
    });
    expect(stdout).toBe('42');
  });
});

describe('cleanup errors', () => {
  it("reports a cleanup() that throws as 'cleanupError', with the thread and the error", async () => {
    const pool = new Pool({ module: fixture('cleanup-throws.mjs'), threads: 2 });
    const reported: { threadId: number; error: unknown }[] = [];
    const started: number[] = [];
    pool.on('threadStart', ({ threadId }) => started.push(threadId));
    pool.on('cleanupError', (info) => reported.push(info));
    expect(await pool.do(1)).toBe(2);
    await pool.ready();
    await pool.shutdown();
    expect(pool.state).toBe('closed');
    expect(reported.map((r) => r.threadId).sort()).toEqual([...started].sort());
    for (const { error } of reported) {
      expect(error).toMatchObject({ name: 'RangeError', message: 'cleanup failed on purpose' });
    }
  });
});

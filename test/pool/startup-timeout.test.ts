/**
 * A task module whose start-up never ends (init() waiting on a timer, or busy-looping)
 * fails the pool after `startupTimeout` instead of hanging it (issue 12, item 6).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CorralError, Pool, type PoolOptions } from 'corral';
import { fixture, rejection, tasks, until } from '../helpers/index.js';

const run = promisify(execFile);

const hangs: [string, string][] = [
  ['init() waiting on a timer', fixture('init-hangs.mjs')],
  ['init() in a busy loop', fixture('init-busy.mjs')],
];

describe('startupTimeout fails a pool whose threads do not finish starting', () => {
  for (const [name, module] of hangs) {
    it(`${name}: ready() and every job reject with ERR_STARTUP_TIMEOUT, threads are terminated`, async () => {
      const pool = new Pool({ module, threads: 2, startupTimeout: 300 });
      const job = rejection(pool.do(1));
      const ready = await rejection(pool.ready());
      expect(ready).toBeInstanceOf(CorralError);
      expect(ready.code).toBe('ERR_STARTUP_TIMEOUT');
      expect(ready.message).toMatch(/startupTimeout.*300 ms/);
      expect((await job).code).toBe('ERR_STARTUP_TIMEOUT');
      expect(pool.state).toBe('failed');
      expect((await rejection(pool.do(2))).code).toBe('ERR_STARTUP_TIMEOUT');
      // The starting threads were terminated (a busy loop can only be stopped so).
      await until(() => pool.stats().threads === 0);
      await pool.shutdown();
      expect(pool.state).toBe('closed');
    });

    it(`${name}: a graceful shutdown during the hung start-up resolves; queued jobs reject with ERR_POOL_CLOSED`, async () => {
      const pool = new Pool({ module, threads: 2, startupTimeout: 300 });
      const job = rejection(pool.do(1));
      const ready = rejection(pool.ready());
      await pool.shutdown();
      expect(pool.state).toBe('closed');
      expect(pool.stats().threads).toBe(0);
      const error = await job;
      expect(error).toBeInstanceOf(CorralError);
      expect(error.code).toBe('ERR_POOL_CLOSED');
      expect((error.cause as { code?: string } | undefined)?.code).toBe('ERR_STARTUP_TIMEOUT');
      expect((await ready).code).toBe('ERR_POOL_CLOSED');
    });
  }

  for (const how of ['timer', 'busy']) {
    it(`a child process with a hung init (${how}) exits on its own after shutdown()`, async () => {
      const { stdout } = await run(process.execPath, [fixture('exit-after-hung-init.mjs'), how], {
        timeout: 20_000,
      });
      expect(stdout).toBe('ERR_POOL_CLOSED closed');
    });
  }
});

describe('startupTimeout leaves a start-up within the limit alone', () => {
  it('an init() that takes a while but less than the limit', async () => {
    const pool = new Pool({
      module: fixture('init-hangs.mjs'),
      threads: 1,
      startupTimeout: 20_000,
      workerData: { ms: 200 },
    });
    expect(await pool.do(1)).toBe(2);
    await pool.shutdown();
  });

  it('0 means no limit', async () => {
    const pool = new Pool({
      module: fixture('init-hangs.mjs'),
      threads: 1,
      startupTimeout: 0,
      workerData: { ms: 200 },
    });
    expect(await pool.do(1)).toBe(2);
    await pool.shutdown();
  });
});

describe('startupTimeout is validated like the other options', () => {
  for (const value of [-1, 1.5, '300', null, Infinity, 2 ** 31]) {
    it(`rejects ${String(value)}`, () => {
      let error: (Error & { code?: string }) | undefined;
      try {
        new Pool({ module: tasks, threads: 1, startupTimeout: value } as unknown as PoolOptions);
      } catch (e) {
        error = e as Error & { code?: string };
      }
      expect(error).toBeInstanceOf(CorralError);
      expect(error?.code).toBe('ERR_INVALID_OPTION');
      expect(error?.message).toMatch(/'startupTimeout' must be an integer/);
    });
  }
});

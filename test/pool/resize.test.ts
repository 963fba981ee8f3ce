import { describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { rejection, tasks, until } from '../helpers/index.js';

describe('resize', () => {
  it('grows and shrinks the thread count at runtime, finishing running jobs first', async () => {
    const pool = new Pool({ module: tasks, threads: 1 });
    await pool.ready();
    pool.resize(3);
    await pool.ready();
    expect(pool.stats().threads).toBe(3);
    const jobs = [100, 100, 100].map((ms) => pool.do<number>(ms, { task: 'spin' }));
    await until(() => pool.stats().running === 3);
    pool.resize(1);
    expect(await Promise.all(jobs)).toEqual([100, 100, 100]);
    await until(() => pool.stats().threads === 1);
    expect(await pool.do(1)).toBe(2);
    await pool.shutdown();
  });

  it('rejects a bad thread count', async () => {
    const pool = new Pool({ module: tasks, threads: 1 });
    expect(() => {
      pool.resize(0);
    }).toThrow(/'threads'/);
    await pool.shutdown();
    expect((await rejection(pool.do(1))).code).toBe('ERR_POOL_CLOSED');
  });
});

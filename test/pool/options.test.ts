import { describe, expect, it } from 'vitest';
import { CorralError, Pool, type PoolOptions } from 'corral';
import { fixture, rejection, tasks } from '../helpers/index.js';

function thrown(options: unknown): CorralError {
  try {
    new Pool(options as PoolOptions);
  } catch (error) {
    return error as CorralError;
  }
  throw new Error('expected the constructor to throw');
}

describe('invalid options throw at construction, naming the option and the value received', () => {
  const cases: [string, unknown, RegExp][] = [
    ['threads', { module: tasks, threads: 0 }, /'threads'.*integer >= 1.*number 0/],
    ['threads', { module: tasks, threads: 1.5 }, /'threads'.*number 1.5/],
    ['threads', { module: tasks, threads: '4' }, /'threads'.*'4'/],
    ['maxQueue', { module: tasks, maxQueue: -1 }, /'maxQueue'.*number -1/],
    ['queueFull', { module: tasks, queueFull: 'drop' }, /'queueFull'.*'drop'/],
    ['maxTries', { module: tasks, maxTries: 0 }, /'maxTries'.*number 0/],
    ['timeout', { module: tasks, timeout: Number.NaN }, /'timeout'.*NaN/],
    ['module', { module: 42 }, /'module'.*number 42/],
    ['module', { module: 'https://example.com/x.js' }, /'module'.*https/],
    ['execArgv', { module: tasks, execArgv: 'x' }, /'execArgv'.*'x'/],
    ['an unknown option', { module: tasks, thread: 2 }, /'thread'.*known option/],
    ['options', null, /'options'.*null/],
  ];
  for (const [name, options, message] of cases) {
    it(`${name}: ${JSON.stringify(options)}`, () => {
      const error = thrown(options);
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toMatch(message);
    });
  }

  it('a module path that does not exist: ERR_MODULE_NOT_FOUND', () => {
    const error = thrown({ module: fixture('nope.mjs') });
    expect(error.code).toBe('ERR_MODULE_NOT_FOUND');
    expect(error.message).toContain('nope.mjs');
  });

  it('per-job options reject the job, naming the option', async () => {
    const pool = new Pool({ module: tasks, threads: 1 });
    const a = await rejection(pool.do(1, { timeout: -5 }));
    expect(a.code).toBe('ERR_INVALID_OPTION');
    expect(a.message).toMatch(/'timeout'.*-5/);
    const b = await rejection(pool.do(1, { task: '' }));
    expect(b.message).toMatch(/'task'/);
    expect(() => pool.execute([1], { window: 0 })).toThrow(/'window'/);
    expect(() => pool.wrap([1], { window: 0 })).toThrow(/'window'/);
    await pool.shutdown();
  });
});

describe('bad input', () => {
  it('rejects a job whose input cannot be cloned, naming the cause; the pool keeps working', async () => {
    const pool = new Pool({ module: tasks, threads: 1 });
    await pool.ready();
    const jobs = [pool.do(1), pool.do({ f: () => 1 }, { task: 'echo' }), pool.do(2)];
    const [a, b, c] = await Promise.allSettled(jobs);
    expect(a).toEqual({ status: 'fulfilled', value: 2 });
    expect(c).toEqual({ status: 'fulfilled', value: 3 });
    expect(b?.status).toBe('rejected');
    const error = (b as PromiseRejectedResult).reason as CorralError;
    expect(error.code).toBe('ERR_DATA_CLONE');
    expect(error.message).toMatch(/input.*could not be cloned/);
    expect(error.cause).toBeInstanceOf(Error);
    expect(await pool.do(3)).toBe(4);
    await pool.shutdown();
  });

  it('rejects a job whose result cannot be cloned', async () => {
    const pool = new Pool({ module: tasks, threads: 1 });
    const error = await rejection(pool.do(null, { task: 'notCloneable' }));
    expect(error.code).toBe('ERR_DATA_CLONE');
    expect(error.message).toMatch(/result/);
    expect(await pool.do(1)).toBe(2);
    await pool.shutdown();
  });
});

describe('the queue bound', () => {
  it("rejects with ERR_QUEUE_FULL past maxQueue when the caller won't wait, and waits otherwise", async () => {
    const pool = new Pool({ module: tasks, threads: 1, maxQueue: 2 });
    await pool.ready();
    const first = pool.do(200, { task: 'spin' });
    // The thread takes one job and prefetches one more; the next two fill the queue.
    const held = [pool.do(1), pool.do(2), pool.do(3)];
    await new Promise((r) => setTimeout(r, 20));
    const full = await rejection(pool.do(4, { queueFull: 'reject' }));
    expect(full.code).toBe('ERR_QUEUE_FULL');
    expect(full.message).toContain('maxQueue: 2');
    const waiting = pool.do(5); // waits for room
    expect(pool.stats().waiting).toBeGreaterThanOrEqual(1);
    expect(await first).toBe(200);
    expect(await Promise.all([...held, waiting])).toEqual([2, 3, 4, 6]);
    await pool.shutdown();
  });
});

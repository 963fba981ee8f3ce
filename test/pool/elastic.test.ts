import { describe, expect, it } from 'vitest';
import { CorralError, Pool } from 'corral';
import { rejection, tasks, until } from '../helpers/index.js';

/** Lets dispatch passes (microtasks) and the exit handlers that follow them run. */
const settle = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Counts the pool's threads two ways: started minus exited from the events (a thread
 * that never became ready does not count), and the extremes of `stats().threads`
 * sampled after every event and every 5 ms.
 */
function watch(pool: Pool): {
  starts: () => number;
  exits: () => number;
  most: () => number;
  least: () => number;
  stop: () => void;
} {
  let starts = 0;
  let exits = 0;
  let most = 0;
  let least = Infinity;
  let eventsMost = 0;
  const sample = (): void => {
    const n = pool.stats().threads;
    most = Math.max(most, n);
    least = Math.min(least, n);
  };
  pool.on('threadStart', () => {
    starts++;
    eventsMost = Math.max(eventsMost, starts - exits);
    sample();
  });
  pool.on('threadExit', () => {
    exits++;
    sample();
  });
  const timer = setInterval(sample, 5);
  return {
    starts: () => starts,
    exits: () => exits,
    most: () => Math.max(most, eventsMost),
    least: () => least,
    stop: () => {
      clearInterval(timer);
    },
  };
}

describe('elastic thread count', () => {
  it('grows under a burst up to maxThreads and never above, then shrinks back to minThreads and never below', async () => {
    const pool = new Pool({ module: tasks, minThreads: 1, maxThreads: 3, idleTimeout: 200 });
    await pool.ready();
    expect(pool.stats().threads).toBe(1);
    const seen = watch(pool);
    for (let round = 0; round < 2; round++) {
      const inputs = Array.from({ length: 24 }, () => 100);
      const jobs = inputs.map((ms) => pool.do<number>(ms, { task: 'sleep' }));
      await until(() => pool.stats().threads === 3);
      expect(await Promise.all(jobs)).toEqual(inputs);
      await until(() => pool.stats().threads === 1);
    }
    // Idle for several idle timeouts: the last thread stays.
    await settle(1000);
    seen.stop();
    expect(pool.stats().threads).toBe(1);
    expect(seen.most()).toBe(3);
    expect(seen.least()).toBe(1);
    // Two rounds of two threads started and retired, on top of the first one.
    expect(seen.starts()).toBe(4);
    expect(seen.exits()).toBe(4);
    expect(await pool.do(1)).toBe(2);
    await pool.shutdown();
  });

  it('keeps minThreads started with the pool and does not retire below them', async () => {
    const pool = new Pool({ module: tasks, minThreads: 2, maxThreads: 4, idleTimeout: 100 });
    await pool.ready();
    expect(pool.stats().threads).toBe(2);
    const seen = watch(pool);
    const jobs = Array.from({ length: 16 }, () => pool.do<number>(100, { task: 'sleep' }));
    await until(() => pool.stats().threads === 4);
    await Promise.all(jobs);
    await until(() => pool.stats().threads === 2);
    await settle(600);
    seen.stop();
    expect(pool.stats().threads).toBe(2);
    expect(seen.least()).toBe(2);
    expect(seen.most()).toBe(4);
    expect(pool.stats().completed).toBe(16);
    await pool.shutdown();
  });

  it('starts no thread for jobs held back by their key, however many', async () => {
    const pool = new Pool({ module: tasks, minThreads: 1, maxThreads: 3, idleTimeout: 100 });
    await pool.ready();
    const seen = watch(pool);
    pool.setTarget('held', 0);
    const jobs = Array.from({ length: 20 }, (_, i) => pool.do<number>(i, { key: 'held' }));
    await settle();
    expect(pool.stats().queued).toBe(20);
    expect(pool.stats().threads).toBe(1);
    pool.setTarget('held', 1);
    expect(await Promise.all(jobs)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // One key unit at a time: one thread had room for all of it, and no thread started
    // (a thread starting counts in stats().threads from the moment it is asked for).
    expect(pool.stats().threads).toBe(1);
    seen.stop();
    expect(seen.most()).toBe(1);
    expect(seen.starts()).toBe(0);
    await pool.shutdown();
  });

  it('replaces a crashed thread only when the pool is at minThreads', async () => {
    const pool = new Pool({ module: tasks, minThreads: 1, maxThreads: 3, idleTimeout: 60_000 });
    await pool.ready();
    // Grow to 3 with a burst; the long idle timeout keeps the extra threads.
    await Promise.all(Array.from({ length: 12 }, () => pool.do(100, { task: 'sleep' })));
    await until(() => pool.stats().threads === 3);
    const seen = watch(pool);
    // An extra thread dies: 2 are left, above minThreads, and nothing waits.
    const crash = await rejection(pool.do({ how: 'exit' }, { task: 'crash' }));
    expect(crash.code).toBe('ERR_WORKER_CRASHED');
    await settle();
    expect(pool.stats().threads).toBe(2);
    expect(seen.starts()).toBe(0);
    // Down to one thread with a resize, then that one dies: it is replaced.
    pool.resize(1);
    await until(() => pool.stats().threads === 1);
    const again = await rejection(pool.do({ how: 'exit' }, { task: 'crash' }));
    expect(again.code).toBe('ERR_WORKER_CRASHED');
    await until(() => seen.starts() === 1);
    expect(await pool.do(1)).toBe(2);
    seen.stop();
    expect(pool.stats().crashes).toBe(2);
    await pool.shutdown();
  });

  it('replaces a crashed thread at minThreads, and grows again for the jobs it left', async () => {
    const pool = new Pool({
      module: tasks,
      minThreads: 1,
      maxThreads: 2,
      idleTimeout: 60_000,
      maxTries: 2,
    });
    await pool.ready();
    const seen = watch(pool);
    const crash = pool.do({ how: 'exit', onTries: [1], value: 'second try' }, { task: 'crash' });
    const sleepers = Array.from({ length: 6 }, () => pool.do<number>(50, { task: 'sleep' }));
    expect(await crash).toBe('second try');
    expect(await Promise.all(sleepers)).toEqual([50, 50, 50, 50, 50, 50]);
    seen.stop();
    expect(seen.most()).toBeLessThanOrEqual(2);
    expect(pool.stats().crashes).toBe(1);
    await pool.shutdown();
  });

  it('resize(n) pins an elastic pool to n threads', async () => {
    const pool = new Pool({ module: tasks, minThreads: 1, maxThreads: 4, idleTimeout: 50 });
    await pool.ready();
    pool.resize(2);
    await pool.ready();
    expect(pool.stats().threads).toBe(2);
    const seen = watch(pool);
    await Promise.all(Array.from({ length: 12 }, () => pool.do(50, { task: 'sleep' })));
    await settle(400);
    seen.stop();
    expect(seen.most()).toBe(2);
    expect(pool.stats().threads).toBe(2);
    await pool.shutdown();
  });

  it('shuts down gracefully while grown: every job settles', async () => {
    const pool = new Pool({ module: tasks, minThreads: 1, maxThreads: 3, idleTimeout: 100 });
    await pool.ready();
    const jobs = Array.from({ length: 12 }, () => pool.do<number>(50, { task: 'sleep' }));
    await until(() => pool.stats().threads > 1);
    await pool.shutdown();
    expect(await Promise.all(jobs)).toEqual(Array.from({ length: 12 }, () => 50));
    expect(pool.stats().threads).toBe(0);
  });
});

describe('elastic options', () => {
  function thrown(options: Record<string, unknown>): CorralError {
    try {
      new Pool({ module: tasks, ...options });
    } catch (error) {
      return error as CorralError;
    }
    throw new Error('expected the constructor to throw');
  }

  const cases: [Record<string, unknown>, RegExp][] = [
    [{ threads: 2, maxThreads: 4 }, /'threads'.*absent when minThreads or maxThreads.*number 2/],
    [{ threads: 2, minThreads: 1 }, /'threads'.*number 2/],
    [{ minThreads: 4, maxThreads: 2 }, /'minThreads'.*to maxThreads \(2\).*number 4/],
    [{ minThreads: 0, maxThreads: 2 }, /'minThreads'.*integer >= 1.*number 0/],
    [{ maxThreads: 1.5 }, /'maxThreads'.*number 1.5/],
    [{ maxThreads: '4' }, /'maxThreads'.*'4'/],
    [{ maxThreads: 2, idleTimeout: -1 }, /'idleTimeout'.*\(ms\).*number -1/],
    [{ maxThreads: 2, idleTimeout: Infinity }, /'idleTimeout'.*Infinity/],
    [{ idleTimeout: 1000 }, /'idleTimeout'.*minThreads or maxThreads.*number 1000/],
    [{ threads: 2, idleTimeout: 1000 }, /'idleTimeout'.*number 1000/],
  ];
  for (const [options, message] of cases) {
    it(JSON.stringify(options), () => {
      const error = thrown(options);
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toMatch(message);
    });
  }

  it('maxThreads alone starts one thread; minThreads = maxThreads is a fixed pool', async () => {
    const alone = new Pool({ module: tasks, maxThreads: 3 });
    const fixed = new Pool({ module: tasks, minThreads: 2, maxThreads: 2, idleTimeout: 0 });
    await Promise.all([alone.ready(), fixed.ready()]);
    expect(alone.stats().threads).toBe(1);
    expect(fixed.stats().threads).toBe(2);
    await Promise.all([alone.shutdown(), fixed.shutdown()]);
  });
});

import { describe, expect, it } from 'vitest';
import { rejection } from '../helpers/index.js';
import { raise, raised, useAbortPools } from '../helpers/abort-pool.js';

// Flags shared with the tasks of abort-tasks.mjs.
const STARTED = 1;
const RELEASE = 2;
const STARTED_2 = 3;
const RELEASE_2 = 4;

const open = useAbortPools();

/** Lets a dispatch pass run: jobs submitted before it reach the threads. */
function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

describe('stats()', () => {
  it('counts a job a thread holds but has not started as queued, not running', async () => {
    const { pool, flags } = open({ threads: 1 });
    await pool.ready();
    // Sent together: the thread runs the first and holds the second.
    const running = pool.do({ started: STARTED, release: RELEASE }, { task: 'hold' });
    const held = pool.do(10, { task: 'mark' });
    await raised(flags, STARTED);
    expect(pool.stats()).toMatchObject({ running: 1, queued: 1, waiting: 0 });
    raise(flags, RELEASE);
    expect(await running).toBe('released');
    expect(await held).toBe(10);
    expect(pool.stats()).toMatchObject({ running: 0, queued: 0, waiting: 0, completed: 2 });
  });
});

describe('maxQueue', () => {
  it('counts the jobs threads hold but have not started against maxQueue', async () => {
    const { pool, flags } = open({ threads: 1, maxQueue: 1, queueFull: 'reject' });
    await pool.ready();
    const running = pool.do({ started: STARTED, release: RELEASE }, { task: 'hold' });
    const held = pool.do(10, { task: 'mark' }); // the one job allowed to wait
    await raised(flags, STARTED);
    const full = await rejection(pool.do(11, { task: 'mark' }));
    expect(full.code).toBe('ERR_QUEUE_FULL');
    const waits = pool.do(12, { task: 'mark', queueFull: 'wait' });
    expect(pool.stats()).toMatchObject({ running: 1, queued: 1, waiting: 1 });
    raise(flags, RELEASE);
    expect(await Promise.all([running, held, waits])).toEqual(['released', 10, 12]);
    expect(Atomics.load(flags, 11)).toBe(0);
  });

  it('bounds the jobs that have not started, however many the threads would prefetch', async () => {
    const { pool, flags } = open({ threads: 2, maxQueue: 3, queueFull: 'reject' });
    await pool.ready();
    const running = [
      pool.do({ started: STARTED, release: RELEASE }, { task: 'hold' }),
      pool.do({ started: STARTED_2, release: RELEASE }, { task: 'hold' }),
    ];
    await raised(flags, STARTED);
    await raised(flags, STARTED_2);
    const accepted: Promise<unknown>[] = [];
    let rejected = 0;
    // One at a time, each given a dispatch pass, so the threads take what they would prefetch.
    for (let slot = 100; slot < 110; slot++) {
      const outcome = { full: false };
      const job = pool.do(slot, { task: 'mark' });
      job.catch((error: unknown) => {
        outcome.full = (error as { code?: string }).code === 'ERR_QUEUE_FULL';
      });
      await tick();
      if (outcome.full) rejected++;
      else accepted.push(job);
    }
    expect(accepted).toHaveLength(3);
    expect(rejected).toBe(7);
    raise(flags, RELEASE);
    expect(await Promise.all(running)).toEqual(['released', 'released']);
    await Promise.all(accepted);
  });

  describe('0: no waiting', () => {
    it('runs a job at once when a thread has room', async () => {
      const { pool, flags } = open({ threads: 2, maxQueue: 0, queueFull: 'reject' });
      await pool.ready();
      expect(await pool.do(10, { task: 'mark' })).toBe(10);
      // Two threads with room: two jobs of the same tick both start (neither waits
      // behind the other); a third would wait, so it is rejected.
      const two = [
        pool.do({ started: STARTED, release: RELEASE }, { task: 'hold' }),
        pool.do({ started: STARTED_2, release: RELEASE }, { task: 'hold' }),
      ];
      const third = rejection(pool.do(13, { task: 'mark' }));
      await raised(flags, STARTED);
      await raised(flags, STARTED_2);
      expect((await third).code).toBe('ERR_QUEUE_FULL');
      raise(flags, RELEASE);
      expect(await Promise.all(two)).toEqual(['released', 'released']);
      expect(await pool.do(14, { task: 'mark' })).toBe(14);
      expect(Atomics.load(flags, 13)).toBe(0);
    });

    it('rejects a job when no thread has room, and takes one again once a thread has', async () => {
      const { pool, flags } = open({
        threads: 1,
        concurrency: 2,
        maxQueue: 0,
        queueFull: 'reject',
      });
      await pool.ready();
      const first = pool.do({ started: STARTED, release: RELEASE }, { task: 'waitFor' });
      await raised(flags, STARTED);
      // The thread runs two jobs at once: the second has room, the third does not.
      const second = pool.do({ ms: 1, value: 'second' }, { task: 'nap' });
      const blocked = pool.do({ started: STARTED_2, release: RELEASE_2 }, { task: 'waitFor' });
      expect((await rejection(blocked)).code).toBe('ERR_QUEUE_FULL');
      expect(await second).toBe('second');
      const fourth = pool.do({ started: STARTED_2, release: RELEASE_2 }, { task: 'waitFor' });
      await raised(flags, STARTED_2);
      expect((await rejection(pool.do(20, { task: 'mark' }))).code).toBe('ERR_QUEUE_FULL');
      raise(flags, RELEASE);
      raise(flags, RELEASE_2);
      expect(await Promise.all([first, fourth])).toEqual(['released', 'released']);
      expect(await pool.do(21, { task: 'mark' })).toBe(21);
      expect(Atomics.load(flags, 20)).toBe(0);
    });
  });
});

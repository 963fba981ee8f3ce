import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Elastic, waitingJobs, type ThreadLoad } from '#internal/threads/elastic.js';

/** A pool as the policy sees it: threads with a state and a load, and a queue length. */
class FakePool {
  threads: { id: number; state: string; load: number }[] = [];
  queued = 0;
  spawned = 0;
  retired: number[] = [];
  active = true;
  #next = 1;

  add(state: string, load = 0): { id: number; state: string; load: number } {
    const t = { id: this.#next++, state, load };
    this.threads.push(t);
    return t;
  }

  elastic(
    min: number,
    max: number,
    idleTimeout = 1000,
  ): Elastic<{ id: number; state: string; load: number }> {
    return new Elastic(
      { min, max, idleTimeout, perThread: 1 },
      {
        threads: () => this.threads,
        idle: (t) => t.state === 'ready' && t.load === 0,
        live: () =>
          this.threads.filter((t) => t.state === 'ready' || t.state === 'starting').length,
        alive: () => this.threads.length,
        backlog: () =>
          waitingJobs(
            this.threads.map((t) => ({ ...t, held: { prefetched: () => 0 } })),
            1,
            () => this.queued,
          ),
        active: () => this.active,
        spawn: () => {
          this.spawned++;
          this.add('starting');
        },
        retire: (t) => {
          this.retired.push(t.id);
          t.state = 'closing';
        },
      },
    );
  }
}

describe('Elastic', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts as many threads as jobs wait, up to max, counting those already starting', () => {
    const pool = new FakePool();
    pool.add('ready', 1);
    const policy = pool.elastic(1, 4);
    pool.queued = 2;
    policy.check();
    expect(pool.spawned).toBe(2);
    policy.check(); // the same two jobs: the starting threads are their places
    expect(pool.spawned).toBe(2);
    pool.queued = 10;
    policy.check();
    expect(pool.spawned).toBe(3);
    expect(pool.threads).toHaveLength(4);
    policy.check();
    expect(pool.spawned).toBe(3);
  });

  it('starts nothing while a ready thread has a free place', () => {
    const pool = new FakePool();
    pool.add('ready', 1);
    pool.add('ready', 0);
    pool.queued = 50;
    pool.elastic(1, 4).check();
    expect(pool.spawned).toBe(0);
  });

  it('retires a thread idle for idleTimeout while above min, never below', () => {
    const pool = new FakePool();
    const a = pool.add('ready');
    const b = pool.add('ready');
    const c = pool.add('ready');
    const policy = pool.elastic(1, 3, 1000);
    policy.check();
    vi.advanceTimersByTime(999);
    expect(pool.retired).toEqual([]);
    vi.advanceTimersByTime(1);
    // All three were idle as long: two go, the third is the minimum.
    expect(pool.retired).toHaveLength(2);
    expect([a, b, c].filter((t) => t.state === 'ready')).toHaveLength(1);
    vi.advanceTimersByTime(10_000);
    policy.check();
    vi.advanceTimersByTime(10_000);
    expect(pool.retired).toHaveLength(2);
  });

  it('keeps a thread that became busy, and restarts its idle time when it is idle again', () => {
    const pool = new FakePool();
    pool.add('ready', 1);
    const b = pool.add('ready');
    const policy = pool.elastic(1, 2, 1000);
    policy.check();
    vi.advanceTimersByTime(600);
    b.load = 1;
    policy.check();
    vi.advanceTimersByTime(600);
    b.load = 0;
    policy.check();
    vi.advanceTimersByTime(600);
    expect(pool.retired).toEqual([]);
    vi.advanceTimersByTime(400);
    expect(pool.retired).toEqual([b.id]);
  });

  it('neither grows nor retires while the pool is not running', () => {
    const pool = new FakePool();
    pool.add('ready', 1);
    pool.add('ready');
    const policy = pool.elastic(1, 4, 100);
    policy.check(); // armed
    pool.active = false;
    pool.queued = 5;
    policy.check();
    vi.advanceTimersByTime(1000);
    expect(pool.spawned).toBe(0);
    expect(pool.retired).toEqual([]);
  });

  it('resize pins the count: a fixed pool neither grows nor retires', () => {
    const pool = new FakePool();
    pool.add('ready', 1);
    pool.add('ready');
    const policy = pool.elastic(1, 4, 100);
    policy.check();
    policy.resize(2);
    expect([policy.min, policy.max]).toEqual([2, 2]);
    pool.queued = 5;
    policy.check();
    vi.advanceTimersByTime(1000);
    expect(pool.spawned).toBe(0);
    expect(pool.retired).toEqual([]);
  });

  it('forgets the timer of a thread that exited', () => {
    const pool = new FakePool();
    pool.add('ready', 1);
    const b = pool.add('ready');
    const policy = pool.elastic(1, 2, 100);
    policy.check();
    pool.threads = pool.threads.filter((t) => t !== b);
    policy.gone(b);
    vi.advanceTimersByTime(1000);
    expect(pool.retired).toEqual([]);
  });
});

describe('waitingJobs', () => {
  const thread = (state: string, load: number, prefetched = 0): ThreadLoad => ({
    state,
    load,
    held: { prefetched: () => prefetched },
  });

  it('counts jobs queued and held unstarted beyond free places, less starting places', () => {
    expect(waitingJobs([thread('ready', 3, 2)], 1, () => 5)).toBe(7);
    expect(waitingJobs([thread('ready', 3, 2), thread('starting', 0)], 2, () => 5)).toBe(4);
    expect(waitingJobs([thread('closing', 0)], 1, () => 3)).toBe(3);
  });

  it('is zero while a ready thread has a free place, without reading the queue', () => {
    const runnable = vi.fn(() => 9);
    expect(waitingJobs([thread('ready', 1), thread('ready', 1)], 2, runnable)).toBe(0);
    expect(runnable).not.toHaveBeenCalled();
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { Pool, type PoolStats } from 'corral';
import { readBusy, readCounters } from '#internal/pool/stats.js';
import { tasks, until } from '../helpers/index.js';

let pool: Pool | undefined;
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

function expectTimed(s: PoolStats['waitTime'], count: number): void {
  expect(s.count).toBe(count);
  for (const value of [s.mean, s.p50, s.p90, s.p99, s.max]) expect(value).toBeGreaterThan(0);
  expect(s.p50).toBeLessThanOrEqual(s.p99);
  expect(s.p99).toBeLessThanOrEqual(s.max);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('stats(): wait and run times', () => {
  it('times every one of the first jobs: after 9 jobs, 9 of each', async () => {
    const p = new Pool({ module: tasks, threads: 1 });
    pool = p;
    await Promise.all(Array.from({ length: 9 }, (_, n) => p.do(n)));
    const s = p.stats();
    expect(s.completed).toBe(9);
    expectTimed(s.waitTime, 9);
    expectTimed(s.runTime, 9);
  });

  it('times failed jobs too', async () => {
    const p = new Pool({ module: tasks, threads: 1 });
    pool = p;
    await p.do({ message: 'no' }, { task: 'fail' }).catch(() => undefined);
    const s = p.stats();
    expect(s.failed).toBe(1);
    expectTimed(s.runTime, 1);
  });

  it('after the first 1,024 jobs, times one job in eight', async () => {
    const p = new Pool({ module: tasks, threads: 2 });
    pool = p;
    await Promise.all(Array.from({ length: 2048 }, (_, n) => p.do(n)));
    const s = p.stats();
    expect(s.completed).toBe(2048);
    // Jobs 1..1024, then 1032, 1040, ..., 2048.
    expectTimed(s.waitTime, 1024 + 128);
    expectTimed(s.runTime, 1024 + 128);
  });
});

describe('stats(): utilization', () => {
  it('is 0 before any job has run', async () => {
    const p = new Pool({ module: tasks, threads: 2 });
    pool = p;
    expect(p.stats()).toMatchObject({ utilization: 0, busyTime: 0 });
    await p.ready();
    await sleep(50);
    const s = p.stats();
    expect(s.utilization).toBe(0);
    expect(s.threadTime).toBeGreaterThan(0);
  });

  it('is well above one half when the one thread runs CPU-bound jobs back to back', async () => {
    const p = new Pool({ module: tasks, threads: 1 });
    pool = p;
    await p.ready();
    await Promise.all([p.do(250, { task: 'spin' }), p.do(250, { task: 'spin' })]);
    const s = p.stats();
    expect(s.utilization).toBeGreaterThan(0.6);
    expect(s.utilization).toBeLessThanOrEqual(1);
    expect(s.busyTime).toBeGreaterThanOrEqual(400);
    expect(s.busyTime).toBeLessThanOrEqual(s.threadTime);
  });

  it('stays near 0 for a pool that mostly idles', async () => {
    const p = new Pool({ module: tasks, threads: 2 });
    pool = p;
    await p.ready();
    await Promise.all(Array.from({ length: 20 }, (_, n) => p.do(n)));
    await sleep(300);
    const s = p.stats();
    expect(s.utilization).toBeGreaterThan(0);
    expect(s.utilization).toBeLessThan(0.2);
  });

  it('never exceeds 1, even when a thread runs several async jobs at once', async () => {
    const p = new Pool({ module: tasks, threads: 1, concurrency: 4 });
    pool = p;
    await p.ready();
    await Promise.all(Array.from({ length: 8 }, () => p.do(150, { task: 'sleep' })));
    const s = p.stats();
    expect(s.utilization).toBeGreaterThan(0.5);
    expect(s.utilization).toBeLessThanOrEqual(1);
    expect(s.busyTime).toBeLessThanOrEqual(s.threadTime);
  });

  it('keeps the time of threads that exited, so a closed pool reports its lifetime', async () => {
    const p = new Pool({ module: tasks, threads: 2 });
    pool = p;
    await p.ready();
    await Promise.all([p.do(300, { task: 'spin' }), p.do(300, { task: 'spin' })]);
    await p.shutdown();
    const s = p.stats();
    expect(s.threads).toBe(0);
    expect(s.busyTime).toBeGreaterThanOrEqual(500);
    expect(s.utilization).toBeGreaterThan(0.5);
    // Nothing is alive any more: the figures are final.
    await sleep(50);
    expect(p.stats()).toMatchObject({ busyTime: s.busyTime, threadTime: s.threadTime });
  });

  it('over a window, from two snapshots: busy, then idle', async () => {
    const p = new Pool({ module: tasks, threads: 1 });
    pool = p;
    await p.ready();
    await p.do(300, { task: 'spin' });
    const a = p.stats();
    await sleep(300);
    const b = p.stats();
    const idleWindow = (b.busyTime - a.busyTime) / (b.threadTime - a.threadTime);
    expect(idleWindow).toBe(0);
    // Since the start it still shows the busy part.
    expect(b.utilization).toBeGreaterThan(0.2);
  });

  it('counts a thread that replaced a crashed one', async () => {
    const p = new Pool({ module: tasks, threads: 1 });
    pool = p;
    const exits: number[] = [];
    p.on('threadExit', ({ threadId }) => exits.push(threadId));
    await p.do({ how: 'exit' }, { task: 'crash' }).catch(() => undefined);
    await until(() => exits.length === 1 && p.stats().threads === 1);
    await p.ready();
    await p.do(300, { task: 'spin' });
    const s = p.stats();
    expect(s.crashes).toBe(1);
    expect(s.busyTime).toBeGreaterThanOrEqual(250);
    expect(s.utilization).toBeGreaterThan(0);
    expect(s.utilization).toBeLessThanOrEqual(1);
  });
});

describe('the internal busy reading (a queue host reads it per job message)', () => {
  it('gives the busy time and settled jobs of stats(), a thread that exited included', async () => {
    const p = new Pool({ module: tasks, threads: 2 });
    pool = p;
    expect(p[readBusy]()).toEqual({ busyTime: 0, jobs: 0 });
    await Promise.all([p.do(60, { task: 'spin' }), p.do(60, { task: 'spin' })]);
    await p.do({ message: 'no' }, { task: 'fail' }).catch(() => undefined);
    p.resize(1);
    await until(() => p.stats().threads === 1);
    const reading = p[readBusy]();
    const s = p.stats();
    expect(reading.jobs).toBe(3);
    expect(reading.jobs).toBe(s.completed + s.failed);
    // Both are lifetime sums of the threads' reported busy time: equal, whenever read.
    expect(reading.busyTime).toBeGreaterThanOrEqual(100);
    expect(reading.busyTime).toBe(s.busyTime);
  });
});

describe('the internal counters (a queue host reads them once a second)', () => {
  it('are the counters of stats(), a retry, a crash and a thread that exited included', async () => {
    const p = new Pool({ module: tasks, threads: 2 });
    pool = p;
    const pick = (s: PoolStats) => ({
      threads: s.threads,
      running: s.running,
      completed: s.completed,
      failed: s.failed,
      retried: s.retried,
      crashes: s.crashes,
    });
    await p.ready();
    expect(p[readCounters]()).toMatchObject(pick(p.stats()));
    await Promise.all([p.do(60, { task: 'spin' }), p.do(2, { task: 'flaky', maxTries: 2 })]);
    await p.do({ message: 'no' }, { task: 'fail' }).catch(() => undefined);
    await p.do({ how: 'exit' }, { task: 'crash' }).catch(() => undefined);
    const running = p.do(300, { task: 'sleep' });
    await until(() => p.stats().running === 1);
    p.resize(1);
    const counters = p[readCounters]();
    const s = p.stats();
    expect(counters).toMatchObject(pick(s));
    expect(counters).toMatchObject({ completed: 2, failed: 2, retried: 1, crashes: 1, running: 1 });
    expect(counters.busyTime).toBe(s.busyTime);
    // Thread time grows with the clock: read a moment apart, nearly equal.
    expect(Math.abs(counters.threadTime - s.threadTime)).toBeLessThan(50);
    await running;
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Pool, type PoolOptions } from 'corral';
import { codeOf, fixture, tasks, tempDir, until } from '../helpers/index.js';

const leaks = fixture('leak-tasks.mjs');
const MB = 2 ** 20;

interface Answer {
  n: number;
  threadId: number;
  jobs: number;
  heap?: number;
}

let pool: Pool | undefined;
function start(options: PoolOptions): Pool {
  pool = new Pool(options);
  return pool;
}
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

describe('recycle', () => {
  it('replaces threads whose heap passes heapAbove: every job succeeds, none charged a try', async () => {
    const log = join(tempDir(), 'cleanup.log');
    const heapAbove = 64 * MB;
    const p = start({
      module: leaks,
      threads: 2,
      maxTries: 1,
      recycle: { heapAbove },
      workerData: log,
    });
    const recycles: { threadId: number; reason: string; heap: number }[] = [];
    p.on('threadRecycle', (info) => recycles.push(info));
    const crashes: unknown[] = [];
    p.on('threadCrash', (info) => crashes.push(info));
    const answers = (await Promise.all(
      Array.from({ length: 1000 }, (_, n) => p.do(n)),
    )) as Answer[];
    expect(answers.map((a) => a.n)).toEqual(Array.from({ length: 1000 }, (_, n) => n));
    const threads = new Set(answers.map((a) => a.threadId));
    expect(threads.size).toBeGreaterThan(5);
    // The heap a job saw after leaking: at most the limit plus that one job's ~5 MB.
    const worst = Math.max(...answers.map((a) => a.heap ?? 0));
    expect(worst).toBeLessThan(heapAbove + 6 * MB);
    expect(recycles.length).toBeGreaterThan(5);
    expect(recycles.every((r) => r.reason === 'heap' && r.heap > heapAbove)).toBe(true);
    const stats = p.stats();
    expect(stats).toMatchObject({ completed: 1000, failed: 0, retried: 0, crashes: 0 });
    expect(stats.recycled).toBe(recycles.length);
    expect(crashes).toEqual([]);
    await p.shutdown();
    pool = undefined;
    // Every recycled thread ran cleanup() on its way out.
    const cleaned = new Set(readFileSync(log, 'utf8').trim().split('\n').map(Number));
    for (const r of recycles) expect(cleaned.has(r.threadId)).toBe(true);
  }, 120_000);

  it('replaces a thread after afterJobs jobs, keeping the pool at its size', async () => {
    const p = start({ module: leaks, threads: 2, recycle: { afterJobs: 25 } });
    const recycled: number[] = [];
    p.on('threadRecycle', ({ threadId, reason }) => {
      expect(reason).toBe('jobs');
      recycled.push(threadId);
    });
    const answers = (await Promise.all(
      Array.from({ length: 500 }, (_, n) => p.do(n, { task: 'count' })),
    )) as Answer[];
    expect(answers.map((a) => a.n)).toEqual(Array.from({ length: 500 }, (_, n) => n));
    // No thread ran more than afterJobs jobs; at least 500 / 25 threads ran them.
    expect(Math.max(...answers.map((a) => a.jobs))).toBeLessThanOrEqual(25);
    const byThread = new Map<number, number>();
    for (const a of answers) byThread.set(a.threadId, (byThread.get(a.threadId) ?? 0) + 1);
    expect(byThread.size).toBeGreaterThanOrEqual(20);
    expect(p.stats()).toMatchObject({ completed: 500, retried: 0, crashes: 0 });
    expect(p.stats().recycled).toBe(recycled.length);
    await p.ready();
    expect(p.stats().threads).toBeLessThanOrEqual(3); // a recycled one may still be closing
    await until(() => p.stats().threads === 2);
  });

  it('lets a recycled thread finish the jobs it runs (concurrency 4), giving back the rest', async () => {
    const p = start({ module: leaks, threads: 1, concurrency: 4, recycle: { afterJobs: 6 } });
    const answers = (await Promise.all(
      Array.from({ length: 40 }, () => p.do(20, { task: 'slow' })),
    )) as Answer[];
    expect(answers).toHaveLength(40);
    expect(Math.max(...answers.map((a) => a.jobs))).toBeLessThanOrEqual(6);
    expect(p.stats()).toMatchObject({ completed: 40, failed: 0, retried: 0, crashes: 0 });
  });

  it('works with an elastic pool', async () => {
    const p = start({ module: leaks, minThreads: 1, maxThreads: 3, recycle: { afterJobs: 10 } });
    const answers = (await Promise.all(
      Array.from({ length: 200 }, (_, n) => p.do(n, { task: 'count' })),
    )) as Answer[];
    expect(Math.max(...answers.map((a) => a.jobs))).toBeLessThanOrEqual(10);
    expect(p.stats()).toMatchObject({ completed: 200, retried: 0, crashes: 0 });
    expect(p.stats().recycled).toBeGreaterThanOrEqual(200 / 10 - 3);
  });

  it("leaves threads alone on other messages: a timed job's 'started' retires nothing", async () => {
    const p = start({ module: tasks, threads: 1, timeout: 5000 });
    const exits: unknown[] = [];
    p.on('threadExit', (info) => exits.push(info));
    const answers = await Promise.all(Array.from({ length: 50 }, (_, n) => p.do(n)));
    expect(answers).toEqual(Array.from({ length: 50 }, (_, n) => n + 1));
    expect(exits).toEqual([]);
    expect(p.stats().recycled).toBe(0);
  });

  it('checks its option', () => {
    const make = (recycle: unknown) => () =>
      new Pool({ module: leaks, threads: 1, recycle } as never);
    expect(codeOf(make(5))).toBe('ERR_INVALID_OPTION');
    expect(codeOf(make({ afterJobs: 0 }))).toBe('ERR_INVALID_OPTION');
    expect(codeOf(make({ heapAbove: -1 }))).toBe('ERR_INVALID_OPTION');
    expect(codeOf(make({ everyJobs: 3 }))).toBe('ERR_INVALID_OPTION');
    expect(make({ afterJobs: 2.5 })).toThrow(/recycle\.afterJobs/);
  });
});

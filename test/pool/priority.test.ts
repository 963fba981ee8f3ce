import { afterEach, describe, expect, it } from 'vitest';
import { Pool, type PoolOptions } from 'corral';
import { checkRemoteJobOptions } from '#internal/nats/queue/remote-job.js';
import { codeOf, collect, rejection, tasks, until } from '../helpers/index.js';

let pool: Pool | undefined;
function start(options: PoolOptions): Pool {
  pool = new Pool(options);
  return pool;
}
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

/** Occupies one place of a thread for `ms`; resolves once the job runs, to its promise. */
async function block(p: Pool, ms: number, key?: string): Promise<{ done: Promise<unknown> }> {
  const running = p.stats().running;
  const done = p.do(ms, { task: 'sleep', ...(key === undefined ? {} : { key }) });
  await until(() => p.stats().running > running);
  return { done }; // wrapped: an async function returning a promise would wait for it
}

describe('priority', () => {
  it('on a saturated one-thread pool, jobs start in priority order, then FIFO', async () => {
    const p = start({ module: tasks, threads: 1 });
    await p.ready();
    const { done: blocker } = await block(p, 300);
    const order: string[] = [];
    const jobs: [string, number | undefined][] = [
      ['a0', undefined],
      ['b5', 5],
      ['c0', 0],
      ['d10', 10],
      ['e5', 5],
      ['f-1', -1],
      ['g10', 10],
      ['h2.5', 2.5],
    ];
    const done = jobs.map(([name, priority]) =>
      p
        .do(name, { task: 'echo', ...(priority === undefined ? {} : { priority }) })
        .then(() => order.push(name)),
    );
    await Promise.all([blocker, ...done]);
    expect(order).toEqual(['d10', 'g10', 'b5', 'e5', 'h2.5', 'a0', 'c0', 'f-1']);
  });

  it('serves keys by the priority of their next job, within what targets allow', async () => {
    const p = start({ module: tasks, threads: 1 });
    await p.ready();
    const { done: blocker } = await block(p, 300);
    const order: string[] = [];
    const jobs: [string, string | undefined, number][] = [
      ['a0', 'a', 0],
      ['b5', 'b', 5],
      ['c0', 'c', 0],
      ['u7', undefined, 7],
      ['a9', 'a', 9],
    ];
    const done = jobs.map(([name, key, priority]) =>
      p
        .do(name, { task: 'echo', priority, ...(key === undefined ? {} : { key }) })
        .then(() => order.push(name)),
    );
    await Promise.all([blocker, ...done]);
    // After a9, key a waits its turn behind c (fair among equals).
    expect(order).toEqual(['a9', 'u7', 'b5', 'c0', 'a0']);
  });

  it('a high-priority job of a key at its target waits while lower ones of free keys run', async () => {
    const p = start({ module: tasks, threads: 1, concurrency: 2 });
    await p.ready();
    p.setTarget('full', 1);
    const { done: blocker } = await block(p, 400, 'full');
    const order: string[] = [];
    const urgent = p
      .do('urgent', { task: 'echo', key: 'full', priority: 100 })
      .then(() => order.push('urgent'));
    const others = ['x1', 'x2', 'x3'].map((name) =>
      p.do(name, { task: 'echo', key: 'free', priority: 0 }).then(() => order.push(name)),
    );
    await Promise.all(others);
    expect(order).toEqual(['x1', 'x2', 'x3']); // the blocker still runs: 'urgent' waits for it
    expect(p.counts('full')).toMatchObject({ active: 1, queued: 1 });
    await Promise.all([blocker, urgent]);
    expect(order).toEqual(['x1', 'x2', 'x3', 'urgent']);
  });

  it('execute and wrap take a priority per call or per input', async () => {
    const p = start({ module: tasks, threads: 1 });
    await p.ready();
    const { done: blocker } = await block(p, 300);
    const perInput = collect(
      p.execute([1, 2, 3, 4, 5, 6], { task: 'echo', priority: (n) => (n % 2 === 0 ? n : 0) }),
    );
    const perCall = collect(p.wrap([100, 101], { task: 'echo', priority: 5 }));
    const [a, b] = await Promise.all([perInput, perCall, blocker]);
    // In completion order (one thread): 6, 4 (priorities 6, 4), then 100, 101 (5 < 6 but > 4)...
    const order = [...a, ...b].map((o) => o.input);
    expect(a.map((o) => o.input)).toEqual([6, 4, 2, 1, 3, 5]);
    expect(b.map((o) => o.input)).toEqual([100, 101]);
    expect(order).toHaveLength(8);
  });

  it("wrap's window still bounds what it pulls from an endless source", async () => {
    const p = start({ module: tasks, threads: 1 });
    let pulled = 0;
    function* endless(): Generator<number> {
      for (;;) yield pulled++;
    }
    let read = 0;
    for await (const outcome of p.wrap(endless(), {
      task: 'echo',
      window: 8,
      priority: (n) => n % 3,
    })) {
      expect(outcome.ok).toBe(true);
      if (++read === 50) break;
    }
    expect(pulled).toBeLessThanOrEqual(50 + 8);
  });

  it('refuses a priority that is not a finite number; a bad per-input one fails only that input', async () => {
    const p = start({ module: tasks, threads: 1 });
    expect((await rejection(p.do(1, { priority: Number.NaN }))).code).toBe('ERR_INVALID_OPTION');
    expect((await rejection(p.do(1, { priority: '1' as never }))).code).toBe('ERR_INVALID_OPTION');
    const out = await collect(
      p.execute([1, 2, 3], { task: 'echo', priority: (n) => (n === 2 ? Infinity : n) }),
    );
    const failed = out.filter((o) => !o.ok);
    expect(failed.map((o) => o.input)).toEqual([2]);
    expect((failed[0] as { error: { code?: string } }).error.code).toBe('ERR_INVALID_OPTION');
    expect(out.filter((o) => o.ok)).toHaveLength(2);
  });

  it('is not honoured by RemotePool: its jobs refuse it with ERR_INVALID_OPTION', () => {
    expect(codeOf(() => checkRemoteJobOptions({ priority: 1 }))).toBe('ERR_INVALID_OPTION');
  });
});

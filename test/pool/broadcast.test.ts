import { afterEach, describe, expect, it } from 'vitest';
import { Pool, type BroadcastOutcome } from 'corral';
import { fixture, rejection, until } from '../helpers/index.js';

let pool: Pool | undefined;
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

const module = fixture('broadcast-tasks.mjs');

interface Report {
  threadId: number;
  config: unknown;
  log: string[];
}

function values<R>(outcomes: BroadcastOutcome<R>[]): R[] {
  return outcomes.map((o) => {
    if (!o.ok) throw o.error;
    return o.value;
  });
}

describe('pool.broadcast', () => {
  it('runs the task once on every thread, one outcome per thread', async () => {
    pool = new Pool({ module, threads: 3 });
    // Sent while the threads still start: each runs it before its first job.
    const outcomes = await pool.broadcast('v1', { task: 'configure' });
    expect(outcomes).toHaveLength(3);
    const ids = outcomes.map((o) => o.threadId);
    expect(new Set(ids).size).toBe(3);
    expect(values(outcomes)).toEqual(ids); // configure returns its threadId
    const reports = values(await pool.broadcast<Report>(undefined, { task: 'report' }));
    for (const r of reports) expect(r.log).toEqual(['configure:v1']);
  });

  it('runs after the jobs a thread already holds have started, and before the jobs sent after it', async () => {
    pool = new Pool({ module, threads: 1 });
    await pool.ready();
    const before = pool.do<Report>({ name: 'a', ms: 200 }, { task: 'slowJob' });
    // Dispatch runs in a microtask: past it, 'a' is on the thread (a job still in the pool's
    // queue when the broadcast is sent goes to a thread after it).
    await new Promise((resolve) => setImmediate(resolve));
    const broadcast = pool.broadcast({ value: 'v2', ms: 100 }, { task: 'slowConfigure' });
    const after = pool.do<Report>('b', { task: 'job' });
    const [a, , b] = await Promise.all([before, broadcast, after]);
    expect(a.config).toBeUndefined();
    expect(b.config).toBe('v2');
    expect(b.log).toEqual(['job:a', 'configure:v2', 'job:b']);
  });

  it('gives each thread its own outcome when the task throws there', async () => {
    pool = new Pool({ module, threads: 2 });
    const outcomes = await pool.broadcast(undefined, { task: 'fails' });
    expect(outcomes).toHaveLength(2);
    for (const o of outcomes) {
      expect(o.ok).toBe(false);
      if (!o.ok) expect((o.error as Error).message).toBe(`no luck on ${o.threadId}`);
    }
  });

  it('reaches a thread that replaced a crashed one: the sticky broadcast runs there before its first job', async () => {
    pool = new Pool({ module, threads: 2 });
    const first = await pool.broadcast('v1', { task: 'configure', sticky: true });
    const original = new Set(first.map((o) => o.threadId));
    const crashes: number[] = [];
    pool.on('threadCrash', ({ threadId }) => crashes.push(threadId));
    const started: number[] = [];
    pool.on('threadStart', ({ threadId }) => started.push(threadId));
    const crash = await rejection(pool.do(undefined, { task: 'crash' }));
    expect(crash.code).toBe('ERR_WORKER_CRASHED');
    await until(() => started.length === 1);
    const replacement = started[0] as number;
    expect(original.has(replacement)).toBe(false);
    // Jobs until one lands on the replacement: the first job there came after the broadcast.
    const p = pool;
    let seen: Report | undefined;
    for (let i = 0; i < 200 && seen === undefined; i++) {
      const batch = await Promise.all(
        [0, 1, 2, 3].map((n) => p.do<Report>(`${i}.${n}`, { task: 'job' })),
      );
      seen = batch.find((r) => r.threadId === replacement);
    }
    expect(seen?.config).toBe('v1');
    expect(seen?.log[0]).toBe('configure:v1');
    // A later broadcast reaches every live thread, the replacement included.
    const reports = values(await pool.broadcast<Report>(undefined, { task: 'report' }));
    expect(reports.map((r) => r.threadId).sort()).toEqual(
      [...[...original].filter((id) => !crashes.includes(id)), replacement].sort(),
    );
    for (const r of reports) expect(r.log[0]).toBe('configure:v1');
  });

  it('with one thread: the replacement runs the latest sticky broadcast of the task before any job', async () => {
    pool = new Pool({ module, threads: 1 });
    await pool.broadcast('old', { task: 'configure', sticky: true });
    await pool.broadcast('new', { task: 'configure', sticky: true });
    await pool.broadcast('transient', { task: 'configure' }); // not sticky: not replayed
    await rejection(pool.do(undefined, { task: 'crash' }));
    const r = await pool.do<Report>('first', { task: 'job' });
    expect(r.log).toEqual(['configure:new', 'job:first']);
  });

  it('also reaches threads added by resize', async () => {
    pool = new Pool({ module, threads: 1 });
    await pool.broadcast('v3', { task: 'configure', sticky: true });
    pool.resize(3);
    await pool.ready();
    const reports = values(await pool.broadcast<Report>(undefined, { task: 'report' }));
    expect(reports).toHaveLength(3);
    for (const r of reports) expect(r.log).toEqual(['configure:v3']);
  });

  it('a thread that dies during the broadcast gives ERR_WORKER_CRASHED there; that broadcast is not sticky any more', async () => {
    pool = new Pool({ module, threads: 2 });
    const outcomes = await pool.broadcast(undefined, { task: 'crash', sticky: true });
    expect(outcomes).toHaveLength(2);
    for (const o of outcomes) {
      expect(o.ok).toBe(false);
      if (!o.ok) expect((o.error as { code?: string }).code).toBe('ERR_WORKER_CRASHED');
    }
    // The replacements did not run it (else they would crash in turn): the pool works.
    const p = pool;
    await until(() => p.stats().threads === 2);
    expect((await pool.do<Report>('after', { task: 'job' })).log).toEqual(['job:after']);
    expect(pool.stats().crashes).toBe(2);
  });

  it('rejects an unknown task, and bad options', async () => {
    pool = new Pool({ module, threads: 1 });
    expect((await rejection(pool.broadcast(1, { task: 'nope' }))).code).toBe('ERR_UNKNOWN_TASK');
    expect(
      (await rejection(pool.broadcast(1, { task: 'configure', sticky: 1 as never }))).code,
    ).toBe('ERR_INVALID_OPTION');
    expect((await rejection(pool.broadcast(() => 1, { task: 'configure' }))).code).toBe(
      'ERR_DATA_CLONE',
    );
  });

  it('shutdown: a broadcast after it rejects; one before it finishes first; a forced one gives ERR_POOL_CLOSED', async () => {
    pool = new Pool({ module, threads: 2 });
    await pool.ready();
    const running = pool.broadcast({ value: 'late', ms: 200 }, { task: 'slowConfigure' });
    const closed = pool.shutdown();
    expect((await rejection(pool.broadcast(1, { task: 'configure' }))).code).toBe(
      'ERR_POOL_CLOSED',
    );
    const outcomes = await running;
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    await closed;

    pool = new Pool({ module, threads: 1 });
    await pool.ready();
    const cut = pool.broadcast({ value: 'never', ms: 5_000 }, { task: 'slowConfigure' });
    await pool.shutdown({ force: true });
    const [o] = await cut;
    expect(o?.ok).toBe(false);
    if (o !== undefined && !o.ok)
      expect((o.error as { code?: string }).code).toBe('ERR_POOL_CLOSED');
  });
});

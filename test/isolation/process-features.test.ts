/**
 * `isolation: 'process'` keeps what a thread pool does: init and cleanup, progress,
 * timeouts, abort, broadcast, keyed targets and leases.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Pool, type PoolOptions } from 'corral';
import { fixture, rejection, tempDir, until } from '../helpers/index.js';

const module = fixture('process-tasks.mjs');

let pool: Pool | undefined;
function start(options: Omit<PoolOptions, 'module'> & { module?: string }): Pool {
  pool = new Pool({ module, isolation: 'process', ...options });
  return pool;
}
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

interface Span {
  from: number;
  to: number;
  active: number;
}

/** The most spans open at once (each shrunk by `slack` ms at both ends: clocks of two processes). */
function mostAtOnce(spans: readonly Span[], slack = 0.5): number {
  const edges: [number, number][] = [];
  for (const s of spans) edges.push([s.from + slack, 1], [s.to - slack, -1]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, step] of edges) {
    now += step;
    most = Math.max(most, now);
  }
  return most;
}

describe('worker processes', () => {
  it('isolation takes only thread or process, the message naming the value received', () => {
    let error: (Error & { code?: string }) | undefined;
    try {
      new Pool({ module, isolation: 'vm' as 'thread' });
    } catch (e) {
      error = e as Error & { code?: string };
    }
    expect(error?.code).toBe('ERR_INVALID_OPTION');
    expect(error?.message).toContain('isolation');
    expect(error?.message).toContain("'thread' or 'process'");
    expect(error?.message).toContain('vm');
  });

  it('run init once each before jobs, and cleanup once each at shutdown', async () => {
    const log = join(tempDir(), 'log');
    const p = start({ module: fixture('lifecycle.mjs'), threads: 2, workerData: { log } });
    const who = await p.do<{ initialised: boolean }>(null);
    expect(who.initialised).toBe(true);
    await p.ready();
    await p.shutdown();
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const inits = lines.filter((l) => l.startsWith('init '));
    expect(inits).toHaveLength(2);
    expect(new Set(inits).size).toBe(2); // init's threadId: each process's pid
    expect(lines.filter((l) => l.startsWith('cleanup'))).toHaveLength(2);
  });

  it('report progress', async () => {
    const p = start({ threads: 1 });
    const seen: unknown[] = [];
    const result = await p.do(5, { task: 'steps', onProgress: (v) => seen.push(v) });
    expect(result).toBe(5);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('kill a process whose job overruns its timeout: ERR_JOB_TIMEOUT, the process replaced', async () => {
    const p = start({ threads: 1 });
    const before = await p.do<number>(0, { task: 'busy' });
    const error = await rejection(p.do(60_000, { task: 'busy', timeout: 200 }));
    expect(error.code).toBe('ERR_JOB_TIMEOUT');
    const after = await p.do<number>(0, { task: 'busy' });
    expect(after).not.toBe(before);
    await until(() => {
      try {
        process.kill(before, 0);
        return false;
      } catch {
        return true;
      }
    });
    expect(p.stats().threads).toBe(1);
  });

  it('abort: a running job sees its signal; one held unstarted never runs; one that ignores it has its process killed', async () => {
    const p = start({ threads: 1, abortGrace: 200 });
    // Running, and listening.
    const a = new AbortController();
    const running = p.do(60_000, { task: 'sleep', signal: a.signal });
    await until(() => p.stats().running === 1);
    a.abort();
    expect((await rejection(running)).code).toBe('ABORT_ERR');
    // Held by the process behind a busy job: dropped there, answered at once here.
    const log = join(tempDir(), 'runs.log');
    const q = start({ threads: 1, workerData: { log } });
    const first = q.do(300, { task: 'busy' });
    const b = new AbortController();
    const held = q.do({ n: 1 }, { task: 'double', signal: b.signal });
    await until(() => q.stats().running === 1);
    b.abort();
    expect((await rejection(held)).code).toBe('ABORT_ERR');
    await first;
    expect(await q.do({ n: 2 }, { task: 'double' })).toMatchObject({ n: 4 });
    expect(readFileSync(log, 'utf8')).toBe('2\n'); // job 1 never ran
    expect(q.stats().crashes).toBe(0);
    await q.shutdown();
    // Running and ignoring its signal: killed after abortGrace, and replaced.
    pool = p;
    const c = new AbortController();
    const stubborn = p.do(60_000, { task: 'busy', signal: c.signal });
    await until(() => p.stats().running === 1);
    c.abort();
    expect((await rejection(stubborn)).code).toBe('ABORT_ERR');
    await until(() => p.stats().crashes === 1);
    expect(await p.do({ n: 3 }, { task: 'double' })).toMatchObject({ n: 6 });
  });

  it('broadcast to every process, and (sticky) to one that replaces a dead one', async () => {
    const p = start({ threads: 2, maxTries: 2 });
    await p.ready();
    const answers = await p.broadcast('blue', { task: 'configure', sticky: true });
    expect(answers).toHaveLength(2);
    expect(answers.every((a) => a.ok)).toBe(true);
    expect(new Set(answers.map((a) => a.ok && a.value)).size).toBe(2);
    await p.do({ n: 1, die: 'segv' }, { task: 'double' });
    await until(() => p.stats().threads === 2 && p.stats().crashes === 1);
    const seen = await Promise.all(
      Array.from({ length: 8 }, () =>
        p.do<{ pid: number; config: unknown }>(null, { task: 'whatConfig' }),
      ),
    );
    expect(seen.every((s) => s.config === 'blue')).toBe(true);
  });

  it('crash as a thread would on an uncaught error, a result that cannot be copied, and a heap past resourceLimits', async () => {
    const p = start({
      module: fixture('tasks.mjs'),
      threads: 1,
      resourceLimits: { maxOldGenerationSizeMb: 32 },
    });
    const uncaught = await rejection(p.do({ how: 'throw' }, { task: 'crash' }));
    expect(uncaught.code).toBe('ERR_WORKER_CRASHED');
    expect((uncaught.cause as Error).message).toBe('uncaught in the worker');
    const clone = await rejection(p.do(null, { task: 'notCloneable' }));
    expect(clone.code).toBe('ERR_DATA_CLONE');
    const oom = await rejection(p.do({ how: 'oom' }, { task: 'crash' }));
    expect(oom.code).toBe('ERR_WORKER_CRASHED');
    expect(await p.do(1)).toBe(2);
    expect(p.stats()).toMatchObject({ threads: 1, crashes: 2 });
  });

  it('fail the pool as threads do when the module cannot load or init throws', async () => {
    const broken = start({ module: fixture('load-error.mjs'), threads: 1 });
    expect((await rejection(broken.tasks())).code).toBe('ERR_MODULE_LOAD');
    await broken.shutdown({ force: true });
    const p = start({ module: fixture('init-throws.mjs'), threads: 1 });
    expect((await rejection(p.ready())).code).toBe('ERR_WORKER_INIT');
  });

  it('grow and shrink with an elastic pool', async () => {
    const p = start({ minThreads: 1, maxThreads: 2, idleTimeout: 200 });
    await p.ready();
    const jobs = Array.from({ length: 40 }, () => p.do<number>(20, { task: 'busy' }));
    await until(() => p.stats().threads === 2);
    const pids = new Set(await Promise.all(jobs));
    expect(pids.size).toBe(2);
    await until(() => p.stats().threads === 1);
    expect(p.stats().crashes).toBe(0);
  });

  it('never run more of a key than its target, for keyed jobs and leases taken inside tasks', async () => {
    const p = start({ threads: 3, concurrency: 4 });
    p.setTarget('tenant', 2);
    const jobs: Promise<Span>[] = [];
    for (let i = 0; i < 60; i++) {
      jobs.push(
        i % 3 === 0
          ? p.do<Span>({ key: 'tenant', ms: 15 }, { task: 'leased' })
          : p.do<Span>({ key: 'tenant', ms: 15 }, { task: 'hold', key: 'tenant' }),
      );
    }
    const spans = await Promise.all(jobs);
    expect(mostAtOnce(spans)).toBe(2); // at the target, never over
    // What counts() read in the process (a copy sent with its jobs) covered the job itself.
    const read = spans.filter((s) => s.active !== -1).map((s) => s.active);
    expect(read.length).toBe(40);
    expect(Math.min(...read)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...read)).toBeLessThanOrEqual(2);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { collect, fixture, rejection, tasks, tempDir, until } from '../helpers/index.js';

let pool: Pool | undefined;
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

describe('do', () => {
  it('runs the default task and named tasks', async () => {
    pool = new Pool({ module: tasks, threads: 2 });
    expect(await pool.do(1)).toBe(2);
    expect(await pool.do({ a: 2, b: 3 }, { task: 'add' })).toBe(5);
  });

  it('accepts the module as a file URL', async () => {
    pool = new Pool({ module: new URL('../fixtures/tasks.mjs', import.meta.url), threads: 1 });
    expect(await pool.do(41)).toBe(42);
  });

  it('rebuilds a task error with its name, message, stack, code and own properties', async () => {
    pool = new Pool({ module: tasks, threads: 1 });
    const error = await rejection(
      pool.do({ message: 'bad row', code: 'E_ROW', extra: { line: 7 } }, { task: 'fail' }),
    );
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('RangeError');
    expect(error.message).toBe('bad row');
    expect(error.code).toBe('E_ROW');
    expect((error as Error & { extra?: unknown }).extra).toEqual({ line: 7 });
    expect(error.stack).toContain('fail');
  });

  it('rejects an unknown task with ERR_UNKNOWN_TASK naming it, before and after the threads start', async () => {
    pool = new Pool({ module: tasks, threads: 1 });
    const early = await rejection(pool.do(1, { task: 'nope' }));
    expect(early.code).toBe('ERR_UNKNOWN_TASK');
    expect(early.message).toContain("'nope'");
    await pool.ready();
    const late = await rejection(pool.do(1, { task: 'nope' }));
    expect(late.code).toBe('ERR_UNKNOWN_TASK');
    expect(await pool.do(1)).toBe(2);
  });

  it('passes progress to onProgress, in order, before the result', async () => {
    pool = new Pool({ module: tasks, threads: 1 });
    const seen: unknown[] = [];
    const result = await pool.do(5, { task: 'progress', onProgress: (v) => seen.push(v) });
    expect(result).toBe(5);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('moves transferables in and out', async () => {
    pool = new Pool({ module: tasks, threads: 1 });
    const input = new Uint8Array(1024).fill(2);
    const sum = await pool.do(input, { task: 'sum', transfer: [input.buffer] });
    expect(sum).toBe(2048);
    expect(input.byteLength).toBe(0); // detached: it was moved, not copied
    const out = await pool.do<Uint8Array>(4096, { task: 'bytes' });
    expect(out).toBeInstanceOf(Uint8Array);
    expect(out.byteLength).toBe(4096);
    expect(out[4095]).toBe(7);
  });

  it('gives tasks the pool workerData and the try number', async () => {
    pool = new Pool({ module: tasks, threads: 1, workerData: { region: 'eu' } });
    expect(await pool.do(null, { task: 'data' })).toEqual({ region: 'eu' });
    expect(await pool.do(null, { task: 'tries' })).toBe(1);
  });
});

describe('execute', () => {
  it('yields one outcome per input with index and input, ok or not', async () => {
    pool = new Pool({ module: tasks, threads: 2 });
    const inputs = [{ a: 1, b: 1 }, 'not an object', { a: 2, b: 2 }];
    const outcomes = await collect(pool.execute(inputs, { task: 'add' }));
    expect(outcomes).toHaveLength(3);
    const byIndex = [...outcomes].sort((x, y) => x.index - y.index);
    expect(byIndex[0]).toMatchObject({ index: 0, input: inputs[0], ok: true, value: 2 });
    expect(byIndex[1]).toMatchObject({ index: 1, input: 'not an object', ok: true });
    expect(byIndex[2]).toMatchObject({ index: 2, ok: true, value: 4 });
    const failing = await collect(pool.execute([{ message: 'x' }], { task: 'fail' }));
    expect(failing[0]?.ok).toBe(false);
    if (failing[0]?.ok === false) expect((failing[0].error as Error).message).toBe('x');
  });

  it('yields in completion order by default and in input order with ordered', async () => {
    pool = new Pool({ module: tasks, threads: 2 });
    const delays = [300, 10, 10, 10];
    const free = await collect(pool.execute(delays, { task: 'sleep' }));
    expect(free.map((o) => o.index)).not.toEqual([0, 1, 2, 3]);
    expect(free.at(-1)?.index).toBe(0);
    const ordered = await collect(pool.execute(delays, { task: 'sleep', ordered: true }));
    expect(ordered.map((o) => o.index)).toEqual([0, 1, 2, 3]);
  });

  it('ends at once for an empty batch', async () => {
    pool = new Pool({ module: tasks, threads: 1 });
    expect(await collect(pool.execute([]))).toEqual([]);
  });
});

describe('init and cleanup', () => {
  it('runs init once per thread before jobs and cleanup once per thread on shutdown', async () => {
    const log = join(tempDir(), 'log');
    const p = new Pool({ module: fixture('lifecycle.mjs'), threads: 2, workerData: { log } });
    const who = await p.do<{ threadId: number; initialised: boolean }>(null);
    expect(who.initialised).toBe(true);
    await p.ready();
    await p.shutdown();
    const lines = readFileSync(log, 'utf8').trim().split('\n').sort();
    expect(lines.filter((l) => l.startsWith('init'))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('cleanup'))).toHaveLength(2);
    const ids = (prefix: string): string[] =>
      lines.filter((l) => l.startsWith(prefix)).map((l) => l.split(' ')[1] ?? '');
    expect(ids('cleanup')).toEqual(ids('init'));
  });
});

describe('stats and events', () => {
  it('counts jobs and reports latency percentiles', async () => {
    const p = new Pool({ module: tasks, threads: 2 });
    pool = p;
    await Promise.all(Array.from({ length: 40 }, (_, n) => p.do(n)));
    await rejection(p.do({ message: 'x' }, { task: 'fail' }));
    const s = p.stats();
    expect(s).toMatchObject({ threads: 2, queued: 0, running: 0, completed: 40, failed: 1 });
    // The first 1,024 jobs are all timed (test/pool/stats.test.ts covers the sampling).
    expect(s.runTime.count).toBe(41);
    expect(s.waitTime.count).toBe(41);
    expect(s.runTime.p99).toBeGreaterThan(0);
    expect(s.runTime.p50).toBeLessThanOrEqual(s.runTime.p99);
  });

  it('emits threadStart, threadCrash, threadExit and drain', async () => {
    pool = new Pool({ module: tasks, threads: 1 });
    const events: string[] = [];
    pool.on('threadStart', () => events.push('start'));
    pool.on('threadExit', () => events.push('exit'));
    pool.on('threadCrash', ({ error }) => events.push(`crash:${error.message}`));
    pool.on('drain', () => events.push('drain'));
    await pool.do(1);
    await until(() => events.includes('drain'));
    await rejection(pool.do({ how: 'exit' }, { task: 'crash' }));
    await until(() => events.filter((e) => e === 'start').length === 2);
    expect(events).toContain('crash:the thread exited with code 3');
    expect(events).toContain('exit');
  });
});

describe('tasks', () => {
  it("lists the module's tasks once a thread has loaded it", async () => {
    pool = new Pool({
      module: fixture('lifecycle.mjs'),
      threads: 1,
      workerData: { log: join(tempDir(), 'log') },
    });
    expect((await pool.tasks()).sort()).toEqual(['default', 'slow']);
  });

  it('rejects like ready() when the module cannot run', async () => {
    pool = new Pool({ module: fixture('load-error.mjs'), threads: 1 });
    expect((await rejection(pool.tasks())).code).toBe('ERR_MODULE_LOAD');
  });
});

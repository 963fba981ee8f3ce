import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { fixture, rejection, tempDir } from '../helpers/index.js';

let pool: Pool | undefined;
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

const runs = (log: string): number => readFileSync(log, 'utf8').split('\n').filter(Boolean).length;

describe('coalescing identical in-flight jobs', () => {
  it('100 concurrent calls with one dedupe id run the task once and all get the result', async () => {
    const log = join(tempDir(), 'log');
    pool = new Pool({ module: fixture('math-worker.mjs'), threads: 2 });
    const p = pool;
    const input = { log, ms: 100, value: 'shared' };
    const results = await Promise.all(
      Array.from({ length: 100 }, () => p.do(input, { task: 'counted', dedupe: 'x' })),
    );
    expect(results.every((r) => r === 'shared')).toBe(true);
    expect(runs(log)).toBe(1);
    // Settled: the id is free again and runs anew.
    expect(await p.do(input, { task: 'counted', dedupe: 'x' })).toBe('shared');
    expect(runs(log)).toBe(2);
    // Other ids are not shared.
    await Promise.all([
      p.do(input, { task: 'counted', dedupe: 'a' }),
      p.do(input, { task: 'counted', dedupe: 'b' }),
    ]);
    expect(runs(log)).toBe(4);
  });

  it('shares errors too', async () => {
    const log = join(tempDir(), 'log');
    pool = new Pool({ module: fixture('math-worker.mjs'), threads: 1 });
    const p = pool;
    const errors = await Promise.all(
      [1, 2, 3].map(() => rejection(p.do({ log }, { task: 'nope', dedupe: 'e' }))),
    );
    expect(errors.map((e) => e.code)).toEqual([
      'ERR_UNKNOWN_TASK',
      'ERR_UNKNOWN_TASK',
      'ERR_UNKNOWN_TASK',
    ]);
  });

  it('one caller aborting does not cancel the shared job while others wait; the last one does', async () => {
    const log = join(tempDir(), 'log');
    pool = new Pool({ module: fixture('math-worker.mjs'), threads: 1 });
    const p = pool;
    const input = { log, ms: 150, value: 'v' };
    const c1 = new AbortController();
    const c2 = new AbortController();
    const first = p.do(input, { task: 'counted', dedupe: 'd', signal: c1.signal });
    const second = p.do(input, { task: 'counted', dedupe: 'd', signal: c2.signal });
    const third = p.do(input, { task: 'counted', dedupe: 'd' });
    await new Promise((r) => setTimeout(r, 30));
    c1.abort('leaving');
    expect((await rejection(first)).name).toBe('AbortError');
    expect(await Promise.all([second, third])).toEqual(['v', 'v']);
    expect(runs(log)).toBe(1);

    // Every caller aborts: the shared job is cancelled.
    const c3 = new AbortController();
    const only = p.do(
      { log, ms: 10_000, value: 'w' },
      { task: 'counted', dedupe: 'e', signal: c3.signal },
    );
    await new Promise((r) => setTimeout(r, 50));
    c3.abort('gone');
    expect((await rejection(only)).cause).toBe('gone');
    expect(p.stats().failed).toBe(1); // the shared job was cancelled (callers leaving are not pool jobs)
    expect(await p.do(1, { task: 'fib' })).toBe(1); // the thread is free again
  });

  it('a caller arriving just after the last one left starts afresh, not on the cancelled job', async () => {
    const log = join(tempDir(), 'log');
    pool = new Pool({ module: fixture('math-worker.mjs'), threads: 1 });
    const p = pool;
    const input = { log, ms: 20, value: 'fresh' };
    const c = new AbortController();
    const leaving = p.do(input, { task: 'counted', dedupe: 'z', signal: c.signal });
    c.abort('A gave up');
    const arriving = p.do(input, { task: 'counted', dedupe: 'z' });
    expect((await rejection(leaving)).cause).toBe('A gave up');
    expect(await arriving).toBe('fresh');
  });
});

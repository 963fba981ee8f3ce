import { describe, expect, it } from 'vitest';
import type { Pool } from 'corral';
import { rejection, until } from '../helpers/index.js';
import { raise, raised, useAbortPools } from '../helpers/abort-pool.js';

// Flags shared with the tasks of abort-tasks.mjs: what ran, what started, what may go on.
const STARTED = 1;
const RELEASE = 2;
const DONE = 3;
const STARTED_2 = 4;
const RELEASE_2 = 5;

const open = useAbortPools();

/** Keeps the main thread busy (blocked) for `ms`: its timers and messages wait meanwhile. */
function blockMain(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Blocks the main thread until a task raises `slot` (at most 10 s). */
function blockMainUntil(flags: Int32Array, slot: number): void {
  const end = Date.now() + 10_000;
  while (Atomics.load(flags, slot) === 0 && Date.now() < end) Atomics.wait(flags, slot, 0, 20);
}

/** Gives the event loop a turn (timers included). */
function turn(ms = 20): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs tiny jobs of `task` so the threads learn that this task is tiny. */
async function warmUp(p: Pool, task: string, input: (i: number) => unknown): Promise<void> {
  await Promise.all(Array.from({ length: 300 }, (_, i) => p.do(input(i), { task })));
}

describe('an aborted job that a busy thread holds but has not started', () => {
  it('never starts', async () => {
    const { pool, flags } = open({ threads: 1 });
    await pool.ready();
    // Sent together: the thread runs the first and holds the second (prefetch).
    const blocker = pool.do({ started: STARTED, release: RELEASE }, { task: 'hold' });
    const controller = new AbortController();
    const aborted = pool.do(10, { task: 'mark', signal: controller.signal });
    const control = pool.do(11, { task: 'mark' });
    await raised(flags, STARTED);
    controller.abort(new Error('changed my mind'));
    expect((await rejection(aborted)).name).toBe('AbortError');
    raise(flags, RELEASE);
    expect(await blocker).toBe('released');
    expect(await control).toBe(11);
    expect(await pool.do(12, { task: 'mark' })).toBe(12);
    expect(Atomics.load(flags, 10)).toBe(0);
    expect(Atomics.load(flags, 11)).toBe(1);
    expect(pool.stats()).toMatchObject({ crashes: 0, failed: 1 });
  });

  it('never starts when it is one of many prefetched tiny jobs; the others run once each', async () => {
    const { pool, flags } = open({ threads: 1 });
    await warmUp(pool, 'mark', () => 4000);
    const blocker = pool.do({ started: STARTED, release: RELEASE }, { task: 'hold' });
    const controllers: AbortController[] = [];
    const jobs: Promise<unknown>[] = [];
    for (let slot = 100; slot < 200; slot++) {
      const controller = new AbortController();
      controllers.push(controller);
      jobs.push(pool.do(slot, { task: 'mark', signal: controller.signal }));
    }
    await raised(flags, STARTED);
    controllers.forEach((c, i) => {
      if (i % 2 === 0) c.abort();
    });
    raise(flags, RELEASE);
    const outcomes = await Promise.allSettled(jobs);
    expect(await blocker).toBe('released');
    const ranAborted = [];
    const missed = [];
    for (let i = 0; i < 100; i++) {
      const runs = Atomics.load(flags, 100 + i);
      if (i % 2 === 0) {
        expect(outcomes[i]?.status).toBe('rejected');
        if (runs !== 0) ranAborted.push(100 + i);
      } else {
        expect(outcomes[i]).toEqual({ status: 'fulfilled', value: 100 + i });
        if (runs !== 1) missed.push([100 + i, runs]);
      }
    }
    expect(ranAborted).toEqual([]);
    expect(missed).toEqual([]);
  });
});

describe('abortGrace', () => {
  it('never runs for an aborted job that had not started, so the running job is not killed', async () => {
    const { pool, flags } = open({ threads: 1, abortGrace: 100 });
    const crashes: unknown[] = [];
    pool.on('threadCrash', ({ error }) => crashes.push(error));
    await pool.ready();
    const running = pool.do({ started: STARTED, release: RELEASE }, { task: 'hold' });
    const controller = new AbortController();
    const waiting = pool.do(10, { task: 'mark', signal: controller.signal });
    await raised(flags, STARTED);
    controller.abort();
    expect((await rejection(waiting)).name).toBe('AbortError');
    // Well past abortGrace: a grace timer for the unstarted job would have fired by now.
    await turn(400);
    raise(flags, RELEASE);
    expect(await running).toBe('released');
    expect(crashes).toEqual([]);
    expect(Atomics.load(flags, 10)).toBe(0);
  });

  it('takes the results waiting in the port before terminating: an aborted job that settled in time costs nothing', async () => {
    const { pool, flags } = open({ threads: 1, abortGrace: 100 });
    const crashes: unknown[] = [];
    pool.on('threadCrash', ({ error }) => crashes.push(error));
    await pool.ready();
    const controller = new AbortController();
    const aborted = pool.do(
      { started: STARTED, release: RELEASE, done: DONE },
      { task: 'hold', signal: controller.signal },
    );
    const next = pool.do({ started: STARTED_2, release: RELEASE_2 }, { task: 'hold' });
    await raised(flags, STARTED);
    controller.abort();
    expect((await rejection(aborted)).name).toBe('AbortError');
    // The aborted job finishes well inside its grace and the thread goes on to the next
    // one, while the main thread is busy until the grace is long over.
    raise(flags, RELEASE);
    blockMainUntil(flags, STARTED_2);
    blockMain(300);
    await turn(50);
    raise(flags, RELEASE_2);
    expect(await next).toBe('released');
    expect(crashes).toEqual([]);
  });

  it('does not lose the results a terminated thread held for jobs that had finished', async () => {
    const { pool, flags } = open({ threads: 1, abortGrace: 100 });
    const crashes: unknown[] = [];
    pool.on('threadCrash', ({ error }) => crashes.push(error));
    // The thread learns that 'hold' is tiny, so it does not flush before the one that hangs.
    await warmUp(pool, 'hold', (i) => ({ value: i }));
    const controller = new AbortController();
    const before = [
      pool.do({ value: 'a' }, { task: 'hold' }),
      pool.do({ value: 'b' }, { task: 'hold' }),
    ];
    const hung = pool.do(
      { started: STARTED, release: RELEASE },
      { task: 'hold', signal: controller.signal },
    );
    await raised(flags, STARTED);
    controller.abort();
    expect((await rejection(hung)).name).toBe('AbortError');
    await until(() => crashes.length === 1);
    expect((crashes[0] as Error).message).toMatch(/abortGrace/);
    expect(await Promise.all(before)).toEqual(['a', 'b']);
    expect(await pool.do({ value: 'c' }, { task: 'hold' })).toBe('c');
  });

  it('an abort storm: every job nobody aborted succeeds', async () => {
    const { pool } = open({ threads: 2, abortGrace: 100 });
    await pool.ready();
    let seed = 7;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const count = 2000;
    const jobs: Promise<unknown>[] = [];
    const abortedAt: boolean[] = [];
    for (let i = 0; i < count; i++) {
      const r = random();
      // Mostly tiny jobs; some that await (and honour their signal); a few slow ones that ignore it.
      const [task, input] =
        r < 0.87
          ? ['spin', { ms: 0, value: i }]
          : r < 0.97
            ? ['nap', { ms: 1 + Math.floor(random() * 20), value: i }]
            : ['spin', { ms: 50 + Math.floor(random() * 200), value: i }];
      const abort = random() < 0.3;
      abortedAt.push(abort);
      if (!abort) {
        jobs.push(pool.do(input, { task }));
        continue;
      }
      const controller = new AbortController();
      // Spread over the run: queued, prefetched, running and finished jobs all get aborted.
      setTimeout(() => {
        controller.abort();
      }, random() * 3000);
      jobs.push(pool.do(input, { task, signal: controller.signal }));
    }
    const outcomes = await Promise.allSettled(jobs);
    const wrong = outcomes.flatMap((o, i): string[] => {
      if (o.status === 'fulfilled') return o.value === i ? [] : [`${i}: got ${String(o.value)}`];
      const error = o.reason as Error & { code?: string };
      if (abortedAt[i] === true && error.name === 'AbortError') return [];
      return [`${i} (aborted: ${abortedAt[i]}): ${error.code ?? error.name}: ${error.message}`];
    });
    expect(wrong.slice(0, 5), `${wrong.length} wrong`).toEqual([]);
    expect(outcomes.filter((o) => o.status === 'rejected').length).toBeGreaterThan(100);
  }, 120_000);
});

describe('result batching', () => {
  it('a slow job does not hold back the result of a fast one that ran before it', async () => {
    const { pool, flags } = open({ threads: 1 });
    await pool.ready();
    const fast = pool.do({ ms: 5, value: 'fast' }, { task: 'nap' });
    const slow = pool.do({ started: STARTED, release: RELEASE }, { task: 'hold' });
    // The slow job runs until the fast job's result is in: it expires if that never happens.
    expect(await fast).toBe('fast');
    raise(flags, RELEASE);
    expect(await slow).toBe('released');
  });

  it('nor does a job of a task the thread knows to be slow', async () => {
    const { pool, flags } = open({ threads: 1 });
    await pool.ready();
    const first = pool.do({ started: STARTED, release: RELEASE }, { task: 'hold' });
    await raised(flags, STARTED);
    raise(flags, RELEASE);
    expect(await first).toBe('released');
    expect(await pool.do({ ms: 1, value: 'warm' }, { task: 'nap' })).toBe('warm');
    const fast = pool.do({ ms: 5, value: 'fast' }, { task: 'nap' });
    const slow = pool.do({ release: RELEASE_2 }, { task: 'hold' });
    expect(await fast).toBe('fast');
    raise(flags, RELEASE_2);
    expect(await slow).toBe('released');
  });
});

/** Streams of tiny jobs in chunks, end to end (the pure functions: chunk.test.ts). */
import { afterEach, describe, expect, it } from 'vitest';
import { Pool, type Outcome, type PoolStats } from 'corral';
import { MAX_CHUNK } from '#internal/pool/chunk.js';
import { collect, fixture, until } from '../helpers/index.js';
import { chunksOf, range, recordSent, warm } from '../helpers/sent-jobs.js';

const chunkTasks = fixture('chunk-tasks.mjs');

const sent = recordSent();

/** The error of a failed outcome (undefined for a success). */
function errorOf(o: Outcome): unknown {
  return o.ok ? undefined : o.error;
}

const values = <R>(outcomes: Outcome<number, R>[]): unknown[] =>
  outcomes.map((o) => (o.ok ? o.value : o.error));

/** The shared state of a victim (see the fixture's `Data`). */
function victimState(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(16));
}

let pool: Pool | undefined;
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

describe('streams of tiny jobs travel in chunks', () => {
  it('execute: every input gets its own outcome, values right, and chunks were sent', async () => {
    const p = (pool = new Pool({ module: chunkTasks, threads: 2 }));
    await warm(sent, p, 'inc');
    const outcomes = await collect(p.execute<number, number>(range(0, 3000), { task: 'inc' }));
    expect(outcomes).toHaveLength(3000);
    expect(outcomes.map((o) => o.index).sort((a, b) => a - b)).toEqual(range(0, 3000));
    for (const o of outcomes)
      expect(o).toEqual({ index: o.input, input: o.input, ok: true, value: o.input + 1 });
    const chunks = chunksOf(sent, 'inc');
    expect(chunks.length).toBeGreaterThan(0);
    expect(Math.max(...chunks.map((c) => c.inputs.length))).toBeLessThanOrEqual(MAX_CHUNK);
    // Nothing went twice: each input was sent once.
    expect(sent.flatMap((s) => s.inputs).sort((a, b) => Number(a) - Number(b))).toEqual(
      range(0, 3000),
    );
  });

  it('with a key function: each chunk holds inputs of one key, and carries that key', async () => {
    const p = (pool = new Pool({ module: chunkTasks, threads: 2 }));
    await warm(sent, p, 'inc');
    sent.length = 0;
    const keyOf = (x: number): string => `k${x % 3}`;
    const outcomes = await collect(
      p.execute<number, number>(range(0, 3000), { task: 'inc', key: keyOf }),
    );
    expect(values(outcomes).sort((a, b) => Number(a) - Number(b))).toEqual(range(1, 3001));
    const chunks = sent.filter((s) => s.chunk);
    expect(chunks.length).toBeGreaterThan(0);
    for (const c of chunks) {
      expect(c.inputs.every((x) => keyOf(x as number) === c.key)).toBe(true);
    }
    expect(sent.flatMap((s) => s.inputs).length).toBe(3000);
  });

  it('is off with transfer, onProgress or a timeout: single jobs only', async () => {
    const p = (pool = new Pool({ module: chunkTasks, threads: 2 }));
    await warm(sent, p, 'inc');
    const options = {
      transfer: { transfer: () => [] },
      onProgress: { onProgress: () => undefined },
      timeout: { timeout: 60_000 },
    };
    for (const [name, extra] of Object.entries(options)) {
      sent.length = 0;
      const outcomes = await collect(
        p.execute<number, number>(range(0, 500), { task: 'inc', ...extra }),
      );
      expect(values(outcomes).sort((a, b) => Number(a) - Number(b))).toEqual(range(1, 501));
      expect(sent.length, name).toBe(500);
      expect(
        sent.every((s) => !s.chunk),
        name,
      ).toBe(true);
    }
    // And on again without them.
    await collect(p.execute<number, number>(range(0, 500), { task: 'inc' }));
    expect(chunksOf(sent, 'inc').length).toBeGreaterThan(0);
  });

  const pools = {
    'concurrency above 1': { concurrency: 2 },
    'a governor': { governor: () => undefined },
    "the pool's timeout": { timeout: 60_000 },
  };
  for (const [name, options] of Object.entries(pools)) {
    it(`is off on a pool with ${name}`, async () => {
      const p = (pool = new Pool({ module: chunkTasks, threads: 2, ...options }));
      // As many rounds as warm() ever needs on a default pool to start chunks.
      for (let round = 0; round < 3; round++) {
        const outcomes = await collect(p.execute<number, number>(range(-500, 0), { task: 'inc' }));
        expect(outcomes.every((o) => o.ok)).toBe(true);
      }
      expect(sent.length).toBe(1500);
      expect(sent.every((s) => !s.chunk)).toBe(true);
    });
  }

  it('ordered: outcomes in input order, failures in their place', async () => {
    const fail = [0, 63, 64, 700, 1999];
    const p = (pool = new Pool({ module: chunkTasks, threads: 2, workerData: { fail } }));
    await warm(sent, p, 'throwAt');
    const outcomes = await collect(
      p.execute<number, number>(range(0, 2000), { task: 'throwAt', ordered: true }),
    );
    expect(outcomes.map((o) => o.index)).toEqual(range(0, 2000));
    expect(outcomes.map((o) => o.input)).toEqual(range(0, 2000));
    for (const o of outcomes) {
      if (fail.includes(o.input)) {
        expect(o.ok).toBe(false);
        expect(errorOf(o)).toMatchObject({
          name: 'RangeError',
          message: `bad ${o.input}`,
        });
      } else expect(o).toMatchObject({ ok: true, value: o.input + 1 });
    }
    expect(chunksOf(sent, 'throwAt').length).toBeGreaterThan(0);
  });

  it('a throwing input fails only itself; stats count inputs', async () => {
    const fail = [5, 300, 301, 999];
    const p = (pool = new Pool({ module: chunkTasks, threads: 2, workerData: { fail } }));
    await warm(sent, p, 'throwAt');
    const before = p.stats();
    const outcomes = await collect(p.execute<number, number>(range(0, 1000), { task: 'throwAt' }));
    const failed = outcomes.filter((o) => !o.ok).map((o) => o.input);
    expect(failed.sort((a, b) => a - b)).toEqual(fail);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1000 - fail.length);
    // Those inputs went in chunks with others that succeeded.
    const carriers = chunksOf(sent, 'throwAt').filter((c) =>
      fail.some((x) => c.inputs.includes(x)),
    );
    expect(carriers.length).toBeGreaterThan(0);
    const after = p.stats();
    expect(after.completed - before.completed).toBe(1000 - fail.length);
    expect(after.failed - before.failed).toBe(fail.length);
    expect(after.retried - before.retried).toBe(0);
  });

  it('a retryable error reruns that input alone, as its second try', async () => {
    const fail = [7, 400, 401];
    const p = (pool = new Pool({
      module: chunkTasks,
      threads: 2,
      maxTries: 2,
      workerData: { fail },
    }));
    await warm(sent, p, 'retryOnce');
    const before = p.stats();
    const outcomes = await collect(
      p.execute<number, { y: number; tries: number }>(range(0, 1000), { task: 'retryOnce' }),
    );
    expect(outcomes).toHaveLength(1000);
    for (const o of outcomes) {
      expect(o).toMatchObject({
        ok: true,
        value: { y: o.input + 1, tries: fail.includes(o.input) ? 2 : 1 },
      });
    }
    // The retries went as jobs of their own.
    const retried = sent.filter((s) => !s.chunk && fail.includes(s.inputs[0] as number));
    expect(retried.map((s) => s.inputs[0]).sort((a, b) => Number(a) - Number(b))).toEqual(fail);
    expect(chunksOf(sent, 'retryOnce').length).toBeGreaterThan(0);
    const after = p.stats();
    expect(after.retried - before.retried).toBe(fail.length);
    expect(after.completed - before.completed).toBe(1000);
    expect(after.failed - before.failed).toBe(0);
  });

  it("a retryable error with no tries left is that input's outcome", async () => {
    const fail = [7, 400];
    const p = (pool = new Pool({ module: chunkTasks, threads: 2, workerData: { fail } }));
    await warm(sent, p, 'retryOnce');
    const outcomes = await collect(
      p.execute<number, number>(range(0, 1000), { task: 'retryOnce' }),
    );
    const failed = outcomes.filter((o) => !o.ok);
    expect(failed.map((o) => o.input).sort((a, b) => a - b)).toEqual(fail);
    for (const o of failed) expect(errorOf(o)).toMatchObject({ message: `retry ${o.input}` });
    expect(chunksOf(sent, 'retryOnce').length).toBeGreaterThan(0);
  });

  it('each input of a chunk gets a context and a signal of its own, as a job would', async () => {
    const p = (pool = new Pool({ module: chunkTasks, threads: 2 }));
    await warm(sent, p, 'sharesCtx');
    const outcomes = await collect(
      p.execute<number, boolean>(range(0, 2000), { task: 'sharesCtx' }),
    );
    expect(chunksOf(sent, 'sharesCtx').length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => !o.ok || o.value)).toEqual([]);
  });

  it("async results inside a chunk (microtasks and event-loop turns) are each input's own", async () => {
    const p = (pool = new Pool({ module: chunkTasks, threads: 2 }));
    await warm(sent, p, 'asyncInc');
    const outcomes = await collect(
      p.execute<number, number>(range(0, 1500), { task: 'asyncInc', ordered: true }),
    );
    expect(values(outcomes)).toEqual(range(1, 1501));
    expect(chunksOf(sent, 'asyncInc').length).toBeGreaterThan(0);
  });
});

describe('chunks behave as single jobs (two bugs found and fixed)', () => {
  it('an uncloneable result fails only its own input, as with single jobs', async () => {
    const fail = [10, 500];
    const p = (pool = new Pool({ module: chunkTasks, threads: 2, workerData: { fail } }));
    // Single jobs (a timeout turns chunks off): only those inputs fail.
    const single = await collect(
      p.execute<number, number>(range(0, 1000), { task: 'uncloneableAt', timeout: 60_000 }),
    );
    expect(
      single
        .filter((o) => !o.ok)
        .map((o) => o.input)
        .sort((a, b) => a - b),
    ).toEqual(fail);
    await warm(sent, p, 'uncloneableAt');
    const before = p.stats();
    const outcomes = await collect(
      p.execute<number, number>(range(0, 1000), { task: 'uncloneableAt' }),
    );
    expect(chunksOf(sent, 'uncloneableAt').length).toBeGreaterThan(0);
    const failed = outcomes.filter((o) => !o.ok);
    for (const o of failed) expect(errorOf(o)).toMatchObject({ code: 'ERR_DATA_CLONE' });
    expect(failed.map((o) => o.input).sort((a, b) => a - b)).toEqual(fail);
    expect(p.stats().failed - before.failed).toBe(fail.length);
  });

  it('stats while an input of a chunk runs: started and unsettled inputs running, the others queued', async () => {
    // One thread: the victim's chunk is the first sent, every other input waits behind it.
    const state = victimState();
    const p = (pool = new Pool({
      module: chunkTasks,
      threads: 1,
      workerData: { victim: { position: 3, state } },
    }));
    await warm(sent, p, 'holdAt');
    const stream = p.execute<number>(range(0, 2000), { task: 'holdAt' });
    const reading = collect(stream);
    await until(() => Atomics.load(state, 0) === 1);
    expect(chunksOf(sent, 'holdAt').length).toBeGreaterThan(0);
    const stats = p.stats();
    // `running` is started and not settled: the input held and the two answered before it,
    // whose answers travel with their chunk's (as a single job's result waits in its
    // thread's outbox until the batch is sent). Before the fix: { running: 0, waiting: 50 }.
    expect({ running: stats.running, waiting: stats.queued + stats.waiting }).toEqual({
      running: 3,
      waiting: 2000 - 3,
    });
    Atomics.store(state, 2, 1);
    expect(await reading).toHaveLength(2000);
  });
});

describe('a thread that dies in the middle of a chunk', () => {
  /** Victim at this position of a chunk: inputs before it answered, inputs after it not started. */
  const position = 5;
  const resourceLimits = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 };

  type Answer = { y: number; tries: number };

  async function run(
    task: string,
    maxTries: number,
  ): Promise<{ p: Pool; outcomes: Outcome<number, Answer>[]; victim: number; before: PoolStats }> {
    // Chunk sizes follow the task's measured cost, which a loaded machine can inflate for a
    // moment: a run whose victim's chunk had no input after it is tried again (at most 3).
    for (let attempt = 1; ; attempt++) {
      const state = victimState();
      const p = (pool = new Pool({
        module: chunkTasks,
        threads: 2,
        maxTries,
        resourceLimits,
        workerData: { victim: { position, state } },
      }));
      sent.length = 0;
      await warm(sent, p, task);
      const before = p.stats();
      const outcomes = await collect(p.execute<number, Answer>(range(0, 2000), { task }));
      expect(Atomics.load(state, 0), 'no input was chosen to crash (chunks too small?)').toBe(1);
      const victim = Atomics.load(state, 1);
      // The victim was in a chunk, with inputs before and after it.
      const carrier = sent.find((s) => s.chunk && s.inputs.includes(victim));
      if ((carrier?.inputs.length ?? 0) <= position && attempt < 3) {
        await p.shutdown({ force: true });
        continue;
      }
      expect(carrier?.inputs.indexOf(victim)).toBe(position - 1);
      expect(carrier?.inputs.length).toBeGreaterThan(position);
      expect(outcomes).toHaveLength(2000);
      expect(outcomes.map((o) => o.input).sort((a, b) => a - b)).toEqual(range(0, 2000));
      await until(() => p.stats().crashes === before.crashes + 1 && p.stats().threads === 2);
      return { p, outcomes, victim, before };
    }
  }

  const ways = [
    ['process.exit', 'exitAt', /exited with code 1/],
    ['an uncaught exception from a callback', 'uncaughtAt', /uncaught at \d+/],
  ] as const;

  for (const [how, task, cause] of ways) {
    it(`by ${how}, maxTries 1: exactly one outcome fails, the running input's`, async () => {
      const { p, outcomes, victim, before } = await run(task, 1);
      const failed = outcomes.filter((o) => !o.ok);
      expect(failed.map((o) => o.input)).toEqual([victim]);
      const error =
        failed[0]?.ok === false ? (failed[0].error as Error & { code?: string }) : undefined;
      expect(error?.code).toBe('ERR_WORKER_CRASHED');
      expect((error?.cause as Error).message).toMatch(cause);
      for (const o of outcomes) {
        if (o.input !== victim)
          expect(o).toMatchObject({ ok: true, value: { y: o.input + 1, tries: 1 } });
      }
      const after = p.stats();
      expect(after.completed - before.completed).toBe(1999);
      expect(after.failed - before.failed).toBe(1);
    });

    it(`by ${how}, maxTries 2: the running input is retried (try 2), the others keep or get try 1`, async () => {
      const { p, outcomes, victim, before } = await run(task, 2);
      for (const o of outcomes) {
        expect(o).toMatchObject({
          ok: true,
          value: { y: o.input + 1, tries: o.input === victim ? 2 : 1 },
        });
      }
      // Only the running input counts as a retry: those answered kept their results.
      expect(p.stats().retried - before.retried).toBe(1);
      expect(p.stats().completed - before.completed).toBe(2000);
    });
  }

  it('by running out of memory (no handler runs), maxTries 2: only the running input uses a second try', async () => {
    const { outcomes, victim } = await run('oomAt', 2);
    for (const o of outcomes) {
      expect(o).toMatchObject({
        ok: true,
        value: { y: o.input + 1, tries: o.input === victim ? 2 : 1 },
      });
    }
  });
});

describe('leaving a stream of chunks', () => {
  it('abort: the stream ends with AbortError, the waiting chunk stops, the threads live on', async () => {
    const state = victimState();
    const ran = new Int32Array(new SharedArrayBuffer(4 * 4000));
    const p = (pool = new Pool({
      module: chunkTasks,
      threads: 2,
      // Ample: a chunk that ignored the cancel would get its thread killed (a crash) after it.
      abortGrace: 5000,
      workerData: { victim: { position: 3, state }, ran },
    }));
    await warm(sent, p, 'holdAt');
    const controller = new AbortController();
    let seen = 0;
    const reading = (async () => {
      for await (const o of p.execute<number>(range(0, 4000), {
        task: 'holdAt',
        signal: controller.signal,
      })) {
        if (o.ok) seen++;
      }
    })();
    await until(() => Atomics.load(state, 0) === 1);
    controller.abort(new Error('stop'));
    const error = await reading.then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(error?.name).toBe('AbortError');
    expect(error?.code).toBe('ABORT_ERR');
    expect(seen).toBeLessThan(4000);
    // The cancel reached the chunk: the victim saw its signal abort.
    await until(() => Atomics.load(state, 3) === 2);
    // The victim's chunk stopped at the cancel: its inputs after the victim never ran.
    const victim = Atomics.load(state, 1);
    const carrier = sent.find((s) => s.chunk && s.inputs.includes(victim));
    const after = carrier?.inputs.slice(carrier.inputs.indexOf(victim) + 1) as number[];
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((x) => Atomics.load(ran, x) === 1)).toEqual([]);
    // The pool stays usable.
    const again = await collect(p.execute<number>(range(0, 500), { task: 'inc', ordered: true }));
    expect(values(again)).toEqual(range(1, 501));
    expect(p.stats().threads).toBe(2);
    // No thread had to be killed for the chunk: a graceful shutdown waits for the threads to
    // let go of their jobs, and a chunk that did not stop would be killed after abortGrace.
    pool = undefined;
    await p.shutdown();
    expect(p.stats().crashes).toBe(0);
  });

  it('break: waits for the running chunk, then the pool stays usable', async () => {
    const state = victimState();
    const p = (pool = new Pool({
      module: chunkTasks,
      threads: 2,
      workerData: { victim: { position: 3, state } },
    }));
    await warm(sent, p, 'holdAt');
    let seen = 0;
    for await (const o of p.execute<number>(range(0, 4000), { task: 'holdAt' })) {
      expect(o.ok).toBe(true);
      seen++;
      // Leave while the victim's chunk runs; it is released only a while after the break.
      await until(() => Atomics.load(state, 0) === 1);
      setTimeout(() => Atomics.store(state, 2, 1), 100);
      break;
    }
    // The break returned only once the held chunk finished.
    expect(Atomics.load(state, 3)).toBe(1);
    expect(seen).toBe(1);
    expect(p.stats().running).toBe(0);
    expect(chunksOf(sent, 'holdAt').length).toBeGreaterThan(0);
    const again = await collect(
      p.execute<number, number>(range(0, 500), { task: 'inc', ordered: true }),
    );
    expect(values(again)).toEqual(range(1, 501));
    expect(p.stats().crashes).toBe(0);
  });
});

describe('wrap with async sources', () => {
  it('a fast async source still travels in chunks', async () => {
    const p = (pool = new Pool({ module: chunkTasks, threads: 2 }));
    await warm(sent, p, 'inc');
    async function* numbers(): AsyncGenerator<number> {
      for (let i = 0; i < 3000; i++) yield await Promise.resolve(i);
    }
    const outcomes = await collect(
      p.wrap<number, number>(numbers(), { task: 'inc', ordered: true }),
    );
    expect(values(outcomes)).toEqual(range(1, 3001));
    expect(chunksOf(sent, 'inc').length).toBeGreaterThan(0);
  });

  it('a source that waits for each outcome before its next input does not stall', async () => {
    const p = (pool = new Pool({ module: chunkTasks, threads: 2 }));
    await warm(sent, p, 'inc');
    let seen = -1;
    let wake: (() => void) | undefined;
    async function* source(): AsyncGenerator<number> {
      for (let i = 0; i < 40; i++) {
        yield i;
        while (seen < i) await new Promise<void>((resolve) => (wake = resolve));
      }
    }
    const values: number[] = [];
    for await (const o of p.wrap<number, number>(source(), { task: 'inc' })) {
      if (o.ok) values.push(o.value);
      seen = o.index;
      wake?.();
    }
    expect(values).toEqual(range(1, 41));
  }, 20_000);
});

/**
 * `pool[runBatch]`, the internal entry point a queue host hands a message's jobs over with:
 * each input's outcome by its index, tries counted on from those used elsewhere, tiny inputs
 * in chunks as a stream's, a key's target honoured, cancel, and what it refuses.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { runBatch, type BatchSpec } from '#internal/pool/batch.js';
import { fixture } from '../helpers/index.js';
import { chunksOf, range, recordSent, warm } from '../helpers/sent-jobs.js';

const tasks = fixture('tasks.mjs');
const chunkTasks = fixture('chunk-tasks.mjs');
const sent = recordSent();

type Result = [index: number, ok: boolean, value: unknown];

/** Runs a batch; resolves with its outcomes in the order they came, once all have. */
function batch(
  pool: Pool,
  inputs: readonly unknown[],
  spec: Partial<BatchSpec> & { task: string },
): { outcomes: Promise<Result[]>; cancel: (reason: unknown) => void } {
  const results: Result[] = [];
  let done: (results: Result[]) => void = () => undefined;
  const outcomes = new Promise<Result[]>((resolve) => (done = resolve));
  const b = pool[runBatch](
    inputs,
    { timeout: 0, maxTries: 1, triesUsed: 0, ...spec },
    (index, ok, value) => {
      results.push([index, ok, value]);
      if (results.length === inputs.length) done(results);
    },
  );
  return {
    outcomes,
    cancel: (reason) => {
      b.cancel(reason);
    },
  };
}

const byIndex = (results: Result[]): Result[] => [...results].sort((a, b) => a[0] - b[0]);

let pool: Pool | undefined;
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

describe('pool[runBatch]', () => {
  it('gives each input its outcome, by index, once', async () => {
    const p = (pool = new Pool({ module: tasks, threads: 2 }));
    const results = await batch(p, [1, 2, { message: 'no', code: 'E_NO' }, 4], {
      task: 'default',
    }).outcomes;
    expect(byIndex(results).map(([i, ok]) => [i, ok])).toEqual([
      [0, true],
      [1, true],
      [2, true], // inc of an object: a string, not an error
      [3, true],
    ]);
    expect(byIndex(results)[0]?.[2]).toBe(2);
    const failed = await batch(p, [{ message: 'no', code: 'E_NO' }], { task: 'fail' }).outcomes;
    expect(failed[0]?.[1]).toBe(false);
    expect(failed[0]?.[2]).toMatchObject({ code: 'E_NO', message: 'no' });
  });

  it('counts tries on from those used before: ctx.tries, and maxTries in all', async () => {
    const p = (pool = new Pool({ module: tasks, threads: 1 }));
    const tries = await batch(p, [0, 0], { task: 'tries', maxTries: 3, triesUsed: 2 }).outcomes;
    expect(tries.map(([, ok, value]) => [ok, value])).toEqual([
      [true, 3],
      [true, 3],
    ]);
    // flaky(3) fails its tries 1 and 2: the one try left is the third.
    const flaky = await batch(p, [3], { task: 'flaky', maxTries: 3, triesUsed: 2 }).outcomes;
    expect(flaky[0]?.slice(1)).toEqual([true, 3]);
    const spent = await batch(p, [4], { task: 'flaky', maxTries: 3, triesUsed: 2 }).outcomes;
    expect(spent[0]?.[1]).toBe(false);
  });

  it('sends tiny inputs in chunks, each chunk of one key, and every input once', async () => {
    const p = (pool = new Pool({ module: chunkTasks, threads: 1, workerData: { fail: [150] } }));
    await warm(sent, p, 'inc');
    const inputs = range(0, 300);
    const results = await batch(p, inputs, { task: 'inc', key: (i) => `k${i % 2}` }).outcomes;
    expect(byIndex(results)).toEqual(inputs.map((x) => [x, true, x + 1]));
    const chunks = chunksOf(sent, 'inc');
    expect(chunks.length).toBeGreaterThan(0);
    for (const c of chunks) {
      expect(new Set(c.inputs.map((x) => `k${Number(x) % 2}`))).toEqual(new Set([c.key]));
    }
    expect(sent.flatMap((s) => s.inputs).sort((a, b) => Number(a) - Number(b))).toEqual(inputs);

    // An input of a chunk that fails a retryable try runs again on its own, its tries counted.
    await warm(sent, p, 'retryOnce');
    const retried = await batch(p, inputs, { task: 'retryOnce', maxTries: 2 }).outcomes;
    expect(chunksOf(sent, 'retryOnce').length).toBeGreaterThan(0);
    expect(byIndex(retried)).toEqual(
      inputs.map((x) => [x, true, { y: x + 1, tries: x === 150 ? 2 : 1 }]),
    );

    // Inputs that ran before elsewhere do not share chunks (each keeps its own tries).
    sent.length = 0;
    const again = await batch(p, range(0, 100), { task: 'inc', maxTries: 3, triesUsed: 1 })
      .outcomes;
    expect(again).toHaveLength(100);
    expect(chunksOf(sent, 'inc')).toEqual([]);
  });

  it("honours a key's target", async () => {
    const p = (pool = new Pool({ module: tasks, threads: 2 }));
    p.setTarget('one', 1);
    const started = Date.now();
    await batch(p, [100, 100], { task: 'sleep', key: () => 'one' }).outcomes;
    // One at a time: about 200 ms, not 100.
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('cancel aborts queued and running inputs: each settles with an AbortError of the reason', async () => {
    const p = (pool = new Pool({ module: tasks, threads: 1 }));
    const run = batch(p, [10_000, 10_000, 10_000], { task: 'sleep' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    run.cancel('given up');
    const results = await run.outcomes;
    expect(Date.now() - started).toBeLessThan(5000);
    for (const [, ok, error] of results) {
      expect(ok).toBe(false);
      expect(error).toMatchObject({ code: 'ABORT_ERR', cause: 'given up' });
    }
    // The thread was let go by its task (it stopped on ctx.signal), not kept for 10 s.
    expect(await p.do(1)).toBe(2);
  });

  it('refuses a task, timeout or tries no job could have; a bad key fails its own input', async () => {
    const p = (pool = new Pool({ module: tasks, threads: 1 }));
    const listener = (): void => undefined;
    const spec: BatchSpec = { task: 'default', timeout: 0, maxTries: 1, triesUsed: 0 };
    expect(() => p[runBatch]([1], { ...spec, task: '' }, listener)).toThrow(/'task'/);
    expect(() => p[runBatch]([1], { ...spec, timeout: -1 }, listener)).toThrow(/'timeout'/);
    expect(() => p[runBatch]([1], { ...spec, maxTries: 0 }, listener)).toThrow(/'maxTries'/);
    const results = await batch(p, [1, 2], {
      task: 'default',
      key: (i) => (i === 0 ? (42 as unknown as string) : undefined),
    }).outcomes;
    const [bad, good] = byIndex(results);
    expect(bad?.[1]).toBe(false);
    expect(bad?.[2]).toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect(good?.slice(1)).toEqual([true, 3]);
  });
});

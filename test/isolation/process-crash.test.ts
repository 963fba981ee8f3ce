/**
 * `isolation: 'process'`: a worker process that dies by a signal or exits is replaced, and its
 * jobs are triaged as a crashed thread's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Pool, type PoolOptions } from 'corral';
import { alive, fixture, tempDir, until } from '../helpers/index.js';

const module = fixture('process-tasks.mjs');

type Death = 'segv' | 'abort' | 'exit';
interface Doubled {
  n: number;
  pid: number;
}

let pool: Pool | undefined;
function start(options: Omit<PoolOptions, 'module'>): Pool {
  pool = new Pool({ module, isolation: 'process', ...options });
  return pool;
}
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

const deaths: [Death, string][] = [
  ['segv', 'killed by SIGSEGV'],
  ['abort', 'killed by SIGABRT'],
  ['exit', 'exited with code 3'],
];

describe.each(deaths)('a worker process that dies on a first try (%s)', (how, said) => {
  /** 12 jobs, every fourth dying on its first try. */
  const inputs = Array.from({ length: 12 }, (_, n) => ({
    n,
    ...(n % 4 === 1 ? { die: how } : {}),
  }));

  it('with maxTries 2: every job succeeds, the pool keeps its size', async () => {
    const p = start({ threads: 2, maxTries: 2 });
    const results = await Promise.all(
      inputs.map((input) => p.do<Doubled>(input, { task: 'double' })),
    );
    expect(results.map((r) => r.n)).toEqual(inputs.map(({ n }) => n * 2));
    const s = p.stats();
    expect(s.crashes).toBe(3);
    expect(s.retried).toBe(3);
    await until(() => p.stats().threads === 2);
  });

  it('with maxTries 1: exactly the dying jobs reject with ERR_WORKER_CRASHED', async () => {
    const p = start({ threads: 2, maxTries: 1 });
    const settled = await Promise.allSettled(
      inputs.map((input) => p.do<Doubled>(input, { task: 'double' })),
    );
    settled.forEach((outcome, n) => {
      if (n % 4 !== 1) {
        expect(outcome).toMatchObject({ status: 'fulfilled', value: { n: n * 2 } });
        return;
      }
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as Error & { code?: string };
      expect(error.code).toBe('ERR_WORKER_CRASHED');
      expect(error.message).toContain(said);
    });
    expect(p.stats().crashes).toBe(3);
    await until(() => p.stats().threads === 2);
  });
});

describe('20,000 mixed jobs through wrap, some dying on their first try', () => {
  it('loses none, runs none twice (but the dying ones), answers each right', async () => {
    const log = join(tempDir(), 'runs.log');
    const p = start({ threads: 2, maxTries: 2, workerData: { log } });
    const count = 20_000;
    const deathOf = (n: number): Death | undefined =>
      n % 1000 === 7 ? 'segv' : n % 1000 === 507 ? 'abort' : n === 9_999 ? 'exit' : undefined;
    function* inputs(): Generator<{ n: number; die?: Death; ms?: number }> {
      for (let n = 0; n < count; n++) {
        const die = deathOf(n);
        yield { n, ...(die === undefined ? {} : { die }), ...(n % 20 === 3 ? { ms: 1 } : {}) };
      }
    }
    const seen = new Map<number, number>();
    let wrong = 0;
    for await (const o of p.wrap(inputs(), { task: 'double' })) {
      expect(o.ok).toBe(true);
      const n = o.input.n;
      seen.set(n, (seen.get(n) ?? 0) + 1);
      if (!o.ok || (o.value as Doubled).n !== n * 2) wrong++;
    }
    expect(seen.size).toBe(count); // none lost
    expect([...seen.values()].every((times) => times === 1)).toBe(true); // none answered twice
    expect(wrong).toBe(0);
    // Runs: once each, twice for those that died on their first try.
    const runs = new Map<number, number>();
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      if (line !== '') runs.set(Number(line), (runs.get(Number(line)) ?? 0) + 1);
    }
    const deaths = [...Array(count).keys()].filter((n) => deathOf(n) !== undefined);
    expect(deaths).toHaveLength(41);
    for (let n = 0; n < count; n++) {
      if (runs.get(n) !== (deathOf(n) === undefined ? 1 : 2)) {
        expect.fail(`job ${String(n)} ran ${String(runs.get(n) ?? 0)} times`);
      }
    }
    expect(p.stats().crashes).toBe(41);
    expect(p.stats().retried).toBe(41);
  }, 120_000);
});

describe('no worker process outlives its pool', () => {
  async function pids(p: Pool, threads: number): Promise<number[]> {
    const seen = new Set<number>();
    while (seen.size < threads) {
      const all = await Promise.all(
        Array.from({ length: threads * 4 }, () => p.do<number>(null, { task: 'pid' })),
      );
      for (const pid of all) seen.add(pid);
    }
    return [...seen];
  }

  it('after a shutdown, and after a forced one', async () => {
    for (const force of [false, true]) {
      const p = start({ threads: 2 });
      const children = await pids(p, 2);
      expect(children.every(alive)).toBe(true);
      await p.shutdown({ force });
      await until(() => !children.some(alive));
    }
  });

  it('after the process that made the pool exits without shutting it down', async () => {
    const { execFileSync } = await import('node:child_process');
    const script = `
      import { Pool } from 'corral';
      const pool = new Pool({ module: ${JSON.stringify(module)}, threads: 2, isolation: 'process' });
      const pids = new Set();
      while (pids.size < 2) for (const pid of await Promise.all([1, 2, 3, 4].map(() => pool.do(null, { task: 'pid' })))) pids.add(pid);
      console.log(JSON.stringify([...pids]));
      process.exit(0);
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fixture('.'),
      encoding: 'utf8',
    });
    const children = JSON.parse(out) as number[];
    expect(children).toHaveLength(2);
    await until(() => !children.some(alive));
  });
});

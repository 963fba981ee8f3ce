/**
 * Hostile probes of `isolation: 'process'`: crash storms, outside kills, abort storms, hung
 * start-ups, big payloads, a killed parent, loud children and shutdown races. Each asserts
 * behaviour (what settles, how often, what is left running), never speed.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { Pool, type PoolOptions } from 'corral';
import { alive, fixture, rejection, tempDir, until } from '../helpers/index.js';

const module = fixture('hostile-tasks.mjs');

interface Doubled {
  n: number;
  pid: number;
}

let pool: Pool | undefined;
/** Every worker pid the current pool started. */
let pids = new Set<number>();
function start(options: Omit<PoolOptions, 'module'> & { module?: string }): Pool {
  const p = new Pool({ module, isolation: 'process', ...options });
  p.on('threadStart', ({ threadId }) => pids.add(threadId));
  pool = p;
  return p;
}
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
  pids = new Set();
});

async function noneAlive(of: Iterable<number>, ms = 10_000): Promise<void> {
  const list = [...of];
  await until(() => list.every((pid) => !alive(pid)), ms);
}

/** Counts of each line of a run log. */
function runs(log: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (line !== '') counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return counts;
}

describe('a crash storm: every job kills its process', () => {
  for (const how of ['segv', 'exit']) {
    it(`(${how}) each job settles once with ERR_WORKER_CRASHED after maxTries; the pool recovers`, async () => {
      const p = start({ threads: 2, maxTries: 3 });
      let crashes = 0;
      p.on('threadCrash', () => crashes++);
      const jobs = 100;
      const settled = new Array<number>(jobs).fill(0);
      const codes = await Promise.all(
        Array.from({ length: jobs }, (_, i) =>
          p.do({ how }, { task: 'die' }).then(
            () => {
              settled[i] = (settled[i] ?? 0) + 1;
              return 'resolved';
            },
            (error: unknown) => {
              settled[i] = (settled[i] ?? 0) + 1;
              return (error as { code?: string }).code;
            },
          ),
        ),
      );
      expect(new Set(codes)).toEqual(new Set(['ERR_WORKER_CRASHED']));
      expect(settled.every((n) => n === 1)).toBe(true);
      // One crash per try at most: the spawns follow the crashes, they do not run away.
      expect(crashes).toBeLessThanOrEqual(jobs * 3);
      expect(pids.size).toBeLessThanOrEqual(crashes + 2);
      await until(() => p.stats().threads === 2);
      const good = await p.do<Doubled>({ n: 21 }, { task: 'work' });
      expect(good.n).toBe(42);
      expect(p.stats().threads).toBe(2);
      const last = new Set(pids);
      await p.shutdown();
      await noneAlive(last);
    }, 120_000);
  }
});

describe('an outside kill -9 of a worker process mid-batch', () => {
  it('loses and doubles no job; a job lost with the process is charged one try', async () => {
    const log = join(tempDir(), 'runs.log');
    const p = start({ threads: 2, maxTries: 2, workerData: { log } });
    const n = 2000;
    let kills = 0;
    const jobs = Array.from({ length: n }, (_, i) =>
      p.do<Doubled>({ n: i, ms: i % 50 === 0 ? 5 : 0 }, { task: 'work' }),
    );
    // Kill a worker three times while the batch runs.
    const killer = (async () => {
      for (let k = 0; k < 3; k++) {
        await until(() => p.stats().completed >= (k + 1) * 400, 60_000);
        const pid = await p.do<number>(null, { task: 'pid' });
        process.kill(pid, 'SIGKILL');
        kills++;
      }
    })();
    const results = await Promise.all(jobs);
    await killer;
    expect(results.map((r) => r.n)).toEqual(Array.from({ length: n }, (_, i) => i * 2));
    const counts = runs(log);
    for (let i = 0; i < n; i++) {
      const c = counts.get(String(i)) ?? 0;
      expect(c, `job ${String(i)} ran ${String(c)} times`).toBeGreaterThanOrEqual(1);
      expect(c).toBeLessThanOrEqual(2);
    }
    // The last kill may land after the last result: its exit is seen a moment later.
    await until(() => p.stats().crashes === kills);
    const s = p.stats();
    // Each run beyond the first is a retry of a job lost with a killed process.
    let reruns = 0;
    for (let i = 0; i < n; i++) reruns += (counts.get(String(i)) ?? 1) - 1;
    expect(s.retried).toBeGreaterThanOrEqual(reruns);
    expect(p.stats().threads).toBe(2);
  }, 120_000);
});

describe('an abort storm', () => {
  it('every job settles once; an aborted unstarted job never runs; the pool ends healthy', async () => {
    const log = join(tempDir(), 'runs.log');
    const p = start({ threads: 2, workerData: { log } });
    const n = 2000;
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const controllers = Array.from({ length: n }, () => new AbortController());
    const settles = new Array<number>(n).fill(0);
    const outcome = new Array<string>(n).fill('');
    // Some aborted before they are even given to the pool.
    for (let i = 0; i < n; i += 10) controllers[i]?.abort();
    const jobs = controllers.map((c, i) =>
      p.do<Doubled>({ n: i, ms: 1 }, { task: 'work', signal: c.signal }).then(
        (r) => {
          settles[i] = (settles[i] ?? 0) + 1;
          outcome[i] = r.n === i * 2 ? 'ok' : 'wrong';
        },
        (error: unknown) => {
          settles[i] = (settles[i] ?? 0) + 1;
          const { code, name } = error as { code?: string; name?: string };
          outcome[i] = code ?? name ?? 'error';
        },
      ),
    );
    const aborter = (async () => {
      for (let i = 0; i < n; i++) {
        if (random() < 0.4) {
          if (random() < 0.5) await new Promise((r) => setTimeout(r, random() * 3));
          controllers[i]?.abort();
        }
      }
    })();
    await Promise.all(jobs);
    await aborter;
    // Abort some after they settled: nothing changes.
    for (const c of controllers) c.abort();
    await new Promise((r) => setTimeout(r, 50));
    expect(settles.every((s) => s === 1)).toBe(true);
    const counts = runs(log);
    for (let i = 0; i < n; i++) {
      expect(counts.get(String(i)) ?? 0).toBeLessThanOrEqual(1);
      if (outcome[i] === 'ok') expect(counts.get(String(i))).toBe(1);
      else expect(outcome[i], `job ${String(i)}`).toBe('ABORT_ERR');
    }
    for (let i = 0; i < n; i += 10) expect(counts.has(String(i))).toBe(false);
    expect(outcome.filter((o) => o === 'wrong')).toEqual([]);
    const good = await p.do<Doubled>({ n: 5 }, { task: 'work' });
    expect(good.n).toBe(10);
    expect(p.stats().threads).toBe(2);
  }, 120_000);
});

describe('a hung init', () => {
  it('that never settles: ERR_WORKER_INIT with cause ERR_INIT_UNSETTLED, as in threads', async () => {
    const p = start({ module: fixture('init-unsettled.mjs'), threads: 2, startupTimeout: 60_000 });
    const job = rejection(p.do(1));
    const error = await rejection(p.ready());
    expect(error.code).toBe('ERR_WORKER_INIT');
    expect((error.cause as { code?: string }).code).toBe('ERR_INIT_UNSETTLED');
    expect((await job).code).toBe('ERR_WORKER_INIT');
    expect(p.stats().crashes).toBe(0);
    const seen = new Set(pids);
    await p.shutdown();
    await noneAlive(seen);
  }, 60_000);

  for (const hung of ['init-busy.mjs', 'init-hangs.mjs']) {
    it(`that never returns (${hung}): ERR_STARTUP_TIMEOUT, shutdown returns, no child left`, async () => {
      const p = new Pool({
        module: fixture(hung),
        threads: 2,
        startupTimeout: 500,
        isolation: 'process',
      });
      pool = p;
      const job = rejection(p.do(1));
      const ready = await rejection(p.ready());
      expect(ready.code).toBe('ERR_STARTUP_TIMEOUT');
      expect((await job).code).toBe('ERR_STARTUP_TIMEOUT');
      await until(() => p.stats().threads === 0);
      await p.shutdown();
      expect(p.state).toBe('closed');
    }, 60_000);
  }
});

describe('big payloads', () => {
  it('1 MB inputs and results, 200 jobs on 2 processes, the parent busy at times: all correct', async () => {
    const p = start({ threads: 2 });
    const size = 1 << 20;
    const input = new Uint8Array(size);
    for (let i = 0; i < size; i++) input[i] = i % 253;
    let expectedSum = 0;
    for (let i = 0; i < size; i++) expectedSum = (expectedSum + (input[i] ?? 0)) % 1_000_000_007;
    const jobs = Array.from({ length: 200 }, (_, seed) =>
      p.do<{ seed: number; sum: number; out: Uint8Array }>({ seed, size, input }, { task: 'big' }),
    );
    // The parent blocks its event loop while the children write results bigger than a pipe.
    for (let k = 0; k < 3; k++) {
      await new Promise((r) => setTimeout(r, 20));
      const end = performance.now() + 200;
      while (performance.now() < end);
    }
    const results = await Promise.all(jobs);
    results.forEach((r, seed) => {
      expect(r.seed).toBe(seed);
      expect(r.sum).toBe(expectedSum);
      expect(r.out.length).toBe(size);
      let ok = true;
      for (let i = 0; i < size; i += 4099) if (r.out[i] !== (seed + i) % 251) ok = false;
      expect(ok).toBe(true);
    });
  }, 120_000);
});

describe('the parent killed', () => {
  for (const mode of ['idle', 'busy']) {
    it(`(workers ${mode}) its worker processes exit within a few seconds`, async () => {
      const parent = spawn(process.execPath, [fixture('orphan-parent.mjs'), mode], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        const lines = createInterface({ input: parent.stdout });
        const first = await new Promise<string>((resolve, reject) => {
          lines.once('line', resolve);
          parent.once('exit', () => {
            reject(new Error('the parent exited early'));
          });
        });
        const workers = JSON.parse(first) as number[];
        expect(workers).toHaveLength(2);
        expect(workers.every(alive)).toBe(true);
        parent.kill('SIGKILL');
        await noneAlive(workers, 5_000);
      } finally {
        parent.kill('SIGKILL');
      }
    }, 30_000);
  }
});

describe('a loud child', () => {
  it('writes much to stdout and stderr: results correct, none of its output lost', async () => {
    // As for threads (docs/internals.md, "A task's output and the process's exit"): the output
    // arrives before the process exits, though not always before the result is printed.
    const child = spawn(process.execPath, [fixture('loud-parent.mjs')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    const lines = out.split('\n');
    for (let n = 0; n < 40; n++) {
      expect(lines, `job ${String(n)}'s output`).toContain(`done ${String(n)}`);
      expect(lines, `job ${String(n)}'s result`).toContain(`result ${String(n)} ${String(n)}`);
    }
    // Every line whole: none lost, none cut by another process's.
    expect(lines.filter((l) => /^out \d+ \d+ x{90}$/.test(l)).length).toBe(40 * 500);
    const errLines = err.split('\n');
    expect(errLines.filter((l) => /^err \d+ \d+ x{90}$/.test(l)).length).toBe(40 * 500);
  }, 60_000);
});

describe("a task's output and the process's exit, as for threads (test/pool/exit-output)", () => {
  const run = promisify(execFile);
  for (const mode of ['none', 'shutdown']) {
    it(`no line lost when the process ends after the result (${mode === 'none' ? 'no shutdown' : 'shutdown'})`, async () => {
      for (let i = 0; i < 3; i++) {
        const { stdout, stderr } = await run(
          process.execPath,
          [fixture('exit-after-output.mjs'), '2000', mode, 'process'],
          { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 },
        );
        expect(stdout).toContain('done 2000');
        expect(stdout.split('\n').filter((l) => /^out \d+$/.test(l)).length).toBe(2000);
        expect(stderr.split('\n').filter((l) => /^err \d+$/.test(l)).length).toBe(2000);
      }
    }, 60_000);
  }
});

describe('many worker processes', () => {
  it('relay their output without piling listeners on process.stdout (no MaxListeners warning)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.name);
    };
    process.on('warning', onWarning);
    try {
      const p = start({ threads: 11 });
      const results = await Promise.all(
        Array.from({ length: 22 }, (_, n) => p.do<number>({ n, lines: 2 }, { task: 'loud' })),
      );
      expect(results).toEqual(Array.from({ length: 22 }, (_, n) => n));
      await p.shutdown();
      await new Promise((r) => setTimeout(r, 50));
      expect(warnings.filter((w) => w === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  }, 60_000);
});

describe('shutdown races', () => {
  it('graceful shutdown while jobs run: they finish and cleanup runs', async () => {
    const log = join(tempDir(), 'runs.log');
    const p = start({ threads: 2, workerData: { log } });
    await p.ready();
    const jobs = Array.from({ length: 20 }, (_, i) =>
      p.do<Doubled>({ n: i, ms: 20 }, { task: 'work' }),
    );
    await until(() => p.stats().completed >= 2);
    const shut = p.shutdown();
    const results = await Promise.all(jobs);
    await shut;
    expect(results.map((r) => r.n)).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    const cleanups = [...runs(log).keys()].filter((l) => l.startsWith('cleanup '));
    expect(cleanups).toHaveLength(2);
    await noneAlive(pids);
  }, 60_000);

  it('shutdown({ force: true }) mid-batch: unfinished jobs reject with ERR_POOL_CLOSED, no child left', async () => {
    const p = start({ threads: 2 });
    await p.ready();
    const jobs = Array.from({ length: 200 }, (_, i) =>
      p.do<Doubled>({ n: i, ms: 5 }, { task: 'work' }).then(
        (r) => (r.n === i * 2 ? 'ok' : 'wrong'),
        (error: unknown) => (error as { code?: string }).code,
      ),
    );
    await until(() => p.stats().completed >= 10);
    await p.shutdown({ force: true });
    const outcomes = await Promise.all(jobs);
    expect(outcomes).toContain('ERR_POOL_CLOSED');
    expect(outcomes.filter((o) => o !== 'ok' && o !== 'ERR_POOL_CLOSED')).toEqual([]);
    await noneAlive(pids);
  }, 60_000);
});

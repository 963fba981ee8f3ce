import { afterEach, describe, expect, it } from 'vitest';
import { Pool, type Lease } from 'corral';
import { fixture, rejection, until } from '../helpers/index.js';

const module = fixture('keyed-tasks.mjs');

/** Shared memory the fixture's observer writes into; see keyed-tasks.mjs. */
class Observer {
  readonly observer = new Int32Array(new SharedArrayBuffer(4 * 4 * 8));
  readonly limits = new Int32Array(new SharedArrayBuffer(4 * 8 * 16));
  readonly epoch = new Int32Array(new SharedArrayBuffer(4));
  /** Holders of key index k now. */
  now(k: number): number {
    return Atomics.load(this.observer, k * 4);
  }
  max(k: number): number {
    return Atomics.load(this.observer, k * 4 + 1);
  }
  /** Starts seen above the limit in force. */
  over(k: number): number {
    return Atomics.load(this.observer, k * 4 + 2);
  }
  /** Moves to a new epoch whose limit for key index k is `limit`. */
  limit(epoch: number, k: number, limit: number): void {
    Atomics.store(this.limits, epoch * 8 + k, limit);
  }
  enterEpoch(epoch: number): void {
    Atomics.store(this.epoch, 0, epoch);
  }
  /** The main thread registers a holder (a lease it holds). */
  enter(k: number): () => void {
    const now = Atomics.add(this.observer, k * 4, 1) + 1;
    if (now > Atomics.load(this.observer, k * 4 + 1)) Atomics.store(this.observer, k * 4 + 1, now);
    const limit = Atomics.load(this.limits, Atomics.load(this.epoch, 0) * 8 + k);
    if (now > limit) Atomics.add(this.observer, k * 4 + 2, 1);
    return () => Atomics.sub(this.observer, k * 4, 1);
  }
}

let pool: Pool | undefined;
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

describe('keyed targets', () => {
  it('never exceeds a target, for jobs and leases from both sides, while targets rise, fall, pause and resume', async () => {
    const obs = new Observer();
    const key = 'tenant';
    const p = new Pool({ module, threads: 2, concurrency: 4, workerData: obs });
    pool = p;
    // Epoch limits: 0 -> target 2, 1 -> raised to 4, 2 -> lowered to 1, 3 -> paused, 4 -> resumed at 3.
    [2, 4, 1, 0, 3].forEach((limit, epoch) => {
      obs.limit(epoch, 0, limit);
    });
    p.setTarget(key, 2);
    const jobs: Promise<unknown>[] = [];
    const submit = (n: number): void => {
      for (let i = 0; i < n; i++) {
        jobs.push(
          i % 3 === 2
            ? p.do({ k: 0, ms: 15, key }, { task: 'leased' })
            : p.do({ k: 0, ms: 15, key }, { task: 'hold', key }),
        );
      }
    };
    const mainLease = async (): Promise<void> => {
      const lease = await p.acquire(key);
      const leave = obs.enter(0);
      await new Promise((r) => setTimeout(r, 10));
      leave();
      lease.release();
    };
    // Lowering or pausing is only checked from a quiet point: every unit of the key is
    // held by a registered holder, so nothing granted under the old target is still on its way.
    const quiet = (): boolean => p.counts(key).active === obs.now(0);

    submit(30);
    const leases = [mainLease(), mainLease(), mainLease()];
    await until(() => obs.max(0) >= 2);
    obs.enterEpoch(1);
    p.setTarget(key, 4);
    submit(30);
    await until(() => obs.now(0) >= 3);
    await until(quiet);
    obs.enterEpoch(2);
    p.setTarget(key, 1);
    expect(p.counts(key).active).toBeGreaterThan(1); // nothing was revoked
    submit(20);
    await until(() => p.counts(key).active <= 1 && obs.now(0) === 1);
    await until(quiet);
    obs.enterEpoch(3);
    p.setTarget(key, 0);
    const paused = p.counts(key);
    await until(() => p.counts(key).active === 0, 20_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(p.counts(key).active).toBe(0); // paused: nothing more starts
    expect(p.counts(key).queued).toBeGreaterThan(0);
    obs.enterEpoch(4);
    p.setTarget(key, 3);
    await Promise.all([...jobs, ...leases]);
    expect(paused.target).toBe(0);
    expect(obs.over(0)).toBe(0);
    expect(obs.max(0)).toBe(4);
    expect(p.counts(key)).toEqual({ target: 3, active: 0, queued: 0, waiting: 0 });
  }, 60_000);

  it('the shared counters seen from a thread cover every holder', async () => {
    const obs = new Observer();
    obs.limit(0, 0, 3);
    const p = new Pool({ module, threads: 2, concurrency: 4, workerData: obs });
    pool = p;
    p.setTarget('k', 3);
    const seen = await Promise.all(
      Array.from({ length: 12 }, () =>
        p.do<number>({ k: 0, ms: 10, key: 'k' }, { task: 'hold', key: 'k' }),
      ),
    );
    for (const active of seen) {
      expect(active).toBeGreaterThanOrEqual(1);
      expect(active).toBeLessThanOrEqual(3);
    }
    expect(obs.over(0)).toBe(0);
  });

  it('gives back the lease of a thread that crashed while holding it', async () => {
    const obs = new Observer();
    obs.limit(0, 0, 1);
    const p = new Pool({ module, threads: 2, workerData: obs });
    pool = p;
    p.setTarget('db', 1);
    const crashed = p.do({ k: 0, ms: 0, key: 'db', crash: true }, { task: 'leased' });
    expect((await rejection(crashed)).code).toBe('ERR_WORKER_CRASHED');
    await until(() => p.counts('db').active === 0);
    // The unit came back: a lease and a keyed job both get it.
    const lease = await p.acquire('db');
    lease.release();
    Atomics.store(obs.observer, 0, 0); // the crashed holder never left the observer: reset it
    expect(await p.do({ k: 0, ms: 1, key: 'db' }, { task: 'hold', key: 'db' })).toBe(1);
  });

  it('serves keys in turn: 10 jobs of key B finish before 2,000 more of key A', async () => {
    const p = new Pool({ module, threads: 2 });
    pool = p;
    await p.ready();
    const order: string[] = [];
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 10_000; i++) {
      all.push(p.do(i, { task: 'tiny', key: 'A' }).then(() => order.push('A')));
    }
    await new Promise((r) => setImmediate(r));
    // A's finished by now (many, on a loaded machine) were never in B's way: count from here.
    const aDoneFirst = order.length;
    for (let i = 0; i < 10; i++) {
      all.push(p.do(i, { task: 'tiny', key: 'B' }).then(() => order.push('B')));
    }
    await Promise.all(all);
    const lastB = order.lastIndexOf('B');
    const aBeforeLastB = order.slice(aDoneFirst, lastB).filter((x) => x === 'A').length;
    expect(aBeforeLastB).toBeLessThan(2000);
  });

  it('unkeyed jobs take part as one member of the ring', async () => {
    const p = new Pool({ module, threads: 1 });
    pool = p;
    await p.ready();
    const order: string[] = [];
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 5000; i++) {
      all.push(p.do(i, { task: 'tiny', key: 'A' }).then(() => order.push('A')));
    }
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 10; i++) all.push(p.do(i, { task: 'tiny' }).then(() => order.push('-')));
    await Promise.all(all);
    expect(order.slice(0, order.lastIndexOf('-')).filter((x) => x === 'A').length).toBeLessThan(
      2000,
    );
  });
});

describe('leases', () => {
  it('have unique non-zero ids, release idempotently, and work with await using', async () => {
    pool = new Pool({ module, threads: 1 });
    pool.setTarget('k', 2);
    const a = await pool.acquire('k');
    const b = await pool.acquire('k');
    expect(a.id).not.toBe(0);
    expect(a.id).not.toBe(b.id);
    expect(a.key).toBe('k');
    expect(pool.counts('k')).toMatchObject({ active: 2 });
    a.release();
    a.release();
    expect(pool.counts('k').active).toBe(1);
    {
      await using c = await pool.acquire('k');
      expect(c.id).not.toBe(b.id);
      expect(pool.counts('k').active).toBe(2);
    }
    expect(pool.counts('k').active).toBe(1);
    b.release();
  });

  it('waiters reject with an AbortError on abort and ERR_POOL_CLOSED on shutdown', async () => {
    const p = new Pool({ module, threads: 1 });
    p.setTarget('k', 1);
    const held: Lease = await p.acquire('k');
    const controller = new AbortController();
    const aborted = p.acquire('k', { signal: controller.signal });
    const closed = p.acquire('k');
    expect(p.counts('k').waiting).toBe(2);
    controller.abort('no');
    const e1 = await rejection(aborted);
    expect(e1.name).toBe('AbortError');
    expect(e1.cause).toBe('no');
    const shutdown = p.shutdown();
    expect((await rejection(closed)).code).toBe('ERR_POOL_CLOSED');
    held.release();
    await shutdown;
    expect((await rejection(p.acquire('k'))).code).toBe('ERR_POOL_CLOSED');
  });

  it('paused keys: queued jobs reject on shutdown instead of holding it up', async () => {
    const p = new Pool({ module, threads: 1 });
    p.setTarget('k', 0);
    const job = rejection(p.do(1, { task: 'tiny', key: 'k' }));
    await new Promise((r) => setTimeout(r, 20));
    await p.shutdown();
    expect((await job).code).toBe('ERR_POOL_CLOSED');
  });

  it('rejects bad keys and targets, naming them', async () => {
    pool = new Pool({ module, threads: 1 });
    const p = pool;
    for (const target of [-1, 1.5, Number.NaN, '2']) {
      expect(() => {
        p.setTarget('k', target as number);
      }).toThrow(/'target'/);
    }
    expect(() => {
      p.setTarget('', 1);
    }).toThrow(/'key'/);
    expect((await rejection(p.acquire(42 as unknown as string))).code).toBe('ERR_INVALID_OPTION');
    expect((await rejection(p.do(1, { key: '' }))).message).toMatch(/'key'/);
    expect(() => new Pool({ module, defaultTarget: -2 })).toThrow(/'defaultTarget'/);
  });

  it('takes any number of distinct keys (the shared table grows)', async () => {
    pool = new Pool({ module, threads: 2, defaultTarget: 1 });
    const p = pool;
    const keys = Array.from({ length: 300 }, (_, i) => `key-${i}`);
    const results = await Promise.all(keys.map((key, i) => p.do(i, { task: 'tiny', key })));
    expect(results).toEqual(keys.map((_, i) => i));
    expect(p.counts('key-299')).toEqual({ target: 1, active: 0, queued: 0, waiting: 0 });
    expect(p.counts('never-seen')).toEqual({ target: 1, active: 0, queued: 0, waiting: 0 });
  });
});

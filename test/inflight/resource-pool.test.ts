import { codeOf } from '../helpers/index.js';
import { setImmediate as tick } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import { PoolClosedError } from '#internal/util/errors.js';
import {
  ResourceNotAcquiredError,
  ResourcePool,
  type ResourcePoolOptions,
} from '#internal/inflight/index.js';

interface Res {
  readonly n: number;
}

/** A pool over numbered objects that counts the live ones and remembers the peak. */
function counted(options: Partial<ResourcePoolOptions<Res>> & { max: number }) {
  const stats = { live: 0, peak: 0, created: 0, destroyed: [] as number[] };
  const pool = new ResourcePool<Res>({
    create: async () => {
      stats.live += 1;
      stats.peak = Math.max(stats.peak, stats.live);
      await tick();
      return { n: stats.created++ };
    },
    destroy: (r) => {
      stats.live -= 1;
      stats.destroyed.push(r.n);
    },
    ...options,
  });
  return { pool, stats };
}

describe('ResourcePool', () => {
  it.each([
    [{ create: 1, max: 1 }, "option 'create' must be a function; received number 1"],
    [{ max: 0 }, "option 'max' must be a positive integer; received number 0"],
    [{ max: 2.5 }, "option 'max' must be a positive integer; received number 2.5"],
    [{ max: 2, idle: 3 }, "option 'idle' must be an integer from 0 to max (2); received number 3"],
    [
      { max: 2, idle: -1 },
      "option 'idle' must be an integer from 0 to max (2); received number -1",
    ],
    [{ max: 2, destroy: 'x' }, "option 'destroy' must be a function; received 'x'"],
  ])('rejects options %o, naming the option and the value', (bad, message) => {
    const options = { create: () => ({}), ...bad } as unknown as ResourcePoolOptions<object>;
    expect(codeOf(() => new ResourcePool(options))).toBe('ERR_INVALID_OPTION');
    expect(() => new ResourcePool(options)).toThrow(message);
  });

  it('reuses the most recently released idle resource before creating', async () => {
    const { pool, stats } = counted({ max: 3 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    pool.release(a);
    pool.release(b);
    expect(pool.idle).toBe(2);
    expect(await pool.acquire()).toBe(b);
    expect(await pool.acquire()).toBe(a);
    expect(stats.created).toBe(2);
    expect(pool.size).toBe(2);
  });

  it('never has more than max resources alive under 1,000 concurrent acquirers', async () => {
    const { pool, stats } = counted({ max: 4, idle: 2 });
    let busy = 0;
    let busyPeak = 0;
    const work = Array.from({ length: 1_000 }, async (_, i) => {
      const r = await pool.acquire();
      busy += 1;
      busyPeak = Math.max(busyPeak, busy);
      for (let t = i % 3; t >= 0; t--) await tick();
      busy -= 1;
      pool.release(r);
      return r.n;
    });
    const used = await Promise.all(work);
    expect(stats.peak).toBe(4);
    expect(busyPeak).toBe(4);
    expect(new Set(used).size).toBeLessThanOrEqual(stats.created);
    expect(pool.size).toBeLessThanOrEqual(4);
    expect(pool.waiting).toBe(0);
    await pool.close();
    expect(stats.live).toBe(0);
    expect(pool.size).toBe(0);
  });

  it('serves waiters first come, first served, handing released resources straight over', async () => {
    const { pool } = counted({ max: 1 });
    const r = await pool.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((i) =>
      pool.acquire().then((got) => {
        order.push(i);
        return got;
      }),
    );
    expect(pool.waiting).toBe(3);
    pool.release(r);
    const first = await waiters[0];
    expect(first).toBe(r);
    expect(pool.idle).toBe(0);
    pool.release(r);
    pool.release((await waiters[1]) as Res);
    await waiters[2];
    expect(order).toEqual([1, 2, 3]);
  });

  it('destroys a released resource when idle are already kept', async () => {
    const { pool, stats } = counted({ max: 3, idle: 1 });
    const held = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const r of held) pool.release(r);
    expect(pool.idle).toBe(1);
    expect(pool.size).toBe(1);
    expect(stats.destroyed).toEqual([held[1].n, held[2].n]);
  });

  it('rejects an aborted waiter with AbortError and passes the resource to the next one', async () => {
    const { pool, stats } = counted({ max: 1 });
    const r = await pool.acquire();
    const controller = new AbortController();
    const aborted = pool.acquire({ signal: controller.signal });
    const next = pool.acquire();
    controller.abort('user gave up');
    await expect(aborted).rejects.toMatchObject({
      code: 'ABORT_ERR',
      name: 'AbortError',
      cause: 'user gave up',
    });
    expect(pool.waiting).toBe(1);
    pool.release(r);
    expect(await next).toBe(r);
    await expect(pool.acquire({ signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ABORT_ERR',
    });
    expect(stats.created).toBe(1);
  });

  it('keeps a resource whose creation outlived the abort of its caller', async () => {
    const { pool, stats } = counted({ max: 1 });
    const controller = new AbortController();
    const acquiring = pool.acquire({ signal: controller.signal });
    controller.abort();
    await expect(acquiring).rejects.toMatchObject({ code: 'ABORT_ERR' });
    await tick();
    await tick();
    expect(stats.created).toBe(1);
    expect(pool.idle).toBe(1);
    expect((await pool.acquire()).n).toBe(0);
  });

  it('frees the slot when create throws or rejects, and a waiter then gets to try', async () => {
    const failures = [new Error('sync'), new Error('async')] as const;
    let calls = 0;
    const pool = new ResourcePool<Res>({
      create: () => {
        calls += 1;
        if (calls === 1) throw failures[0];
        if (calls === 2) return Promise.reject(failures[1]);
        return { n: calls };
      },
      max: 1,
    });
    const first = pool.acquire();
    const second = pool.acquire();
    const third = pool.acquire();
    await expect(first).rejects.toBe(failures[0]);
    await expect(second).rejects.toBe(failures[1]);
    expect(await third).toEqual({ n: 3 });
    expect(pool.size).toBe(1);
  });

  it('throws ERR_RESOURCE_NOT_ACQUIRED for a foreign resource or a double release', async () => {
    const { pool } = counted({ max: 2 });
    const r = await pool.acquire();
    expect(() => {
      pool.release({ n: 99 });
    }).toThrow(ResourceNotAcquiredError);
    pool.release(r);
    expect(
      codeOf(() => {
        pool.release(r);
      }),
    ).toBe('ERR_RESOURCE_NOT_ACQUIRED');
    expect(
      codeOf(() => {
        pool.discard(r);
      }),
    ).toBe('ERR_RESOURCE_NOT_ACQUIRED');
    expect(pool.idle).toBe(1);
  });

  it('discard() destroys a broken resource and lets a waiter create a new one', async () => {
    const { pool, stats } = counted({ max: 1 });
    const broken = await pool.acquire();
    const waiter = pool.acquire();
    pool.discard(broken);
    const fresh = await waiter;
    expect(fresh).not.toBe(broken);
    expect(stats.destroyed).toEqual([broken.n]);
    expect(stats.peak).toBe(1);
  });

  it('close() rejects waiters, destroys idle resources now and lent ones when released', async () => {
    const { pool, stats } = counted({ max: 2 });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    pool.release(a);
    const lent = await pool.acquire();
    const waiter = pool.acquire();
    const closing = pool.close();
    expect(pool.close()).toBe(closing);
    await expect(waiter).rejects.toBeInstanceOf(PoolClosedError);
    await closing;
    expect(pool.closed).toBe(true);
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(stats.live).toBe(2);
    pool.release(lent);
    pool.release(b);
    expect(stats.live).toBe(0);
    expect(pool.size).toBe(0);
  });

  it('close() rejects a caller whose resource is being created and waits to destroy it', async () => {
    const { pool, stats } = counted({ max: 1 });
    const rejected = expect(pool.acquire()).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    await pool.close();
    await rejected;
    expect(stats.created).toBe(1);
    expect(stats.live).toBe(0);
  });

  it('reports destroy failures to onDestroyError', async () => {
    const onDestroyError = vi.fn();
    const failure = new Error('cannot close');
    const pool = new ResourcePool<Res>({
      create: () => ({ n: 1 }),
      destroy: () => Promise.reject(failure),
      max: 1,
      idle: 0,
      onDestroyError,
    });
    const r = await pool.acquire();
    pool.release(r);
    await pool.close();
    expect(onDestroyError).toHaveBeenCalledWith(failure, r);
  });

  it('use() releases after success and discards after a throw', async () => {
    const { pool, stats } = counted({ max: 1 });
    expect(await pool.use((r) => r.n + 10)).toBe(10);
    expect(pool.idle).toBe(1);
    await expect(
      pool.use(() => {
        throw new Error('bad');
      }),
    ).rejects.toThrow('bad');
    expect(stats.destroyed).toEqual([0]);
    expect(pool.size).toBe(0);
  });

  it('closes at scope exit with await using', async () => {
    const { pool, stats } = counted({ max: 1 });
    {
      await using scoped = pool;
      scoped.release(await scoped.acquire());
      expect(stats.live).toBe(1);
    }
    expect(pool.closed).toBe(true);
    expect(stats.live).toBe(0);
  });

  it('works inside a worker thread (no main-thread-only APIs)', async () => {
    // The worker imports the built module: Node 20 cannot load .ts in a worker.
    const built = new URL('../../dist/src/inflight/resource-pool.js', import.meta.url).href;
    {
      const script = `
        import { parentPort } from 'node:worker_threads';
        import { ResourcePool } from ${JSON.stringify(built)};
        let live = 0, peak = 0;
        const pool = new ResourcePool({
          create: async () => { peak = Math.max(peak, ++live); return {}; },
          destroy: () => { live--; },
          max: 2,
        });
        await Promise.all(Array.from({ length: 20 }, async () => {
          const r = await pool.acquire();
          await new Promise((resolve) => setImmediate(resolve));
          pool.release(r);
        }));
        await pool.close();
        parentPort.postMessage({ peak, live });
      `;
      const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(script)}`));
      const message = await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(message).toEqual({ peak: 2, live: 0 });
      await worker.terminate();
    }
  });
});

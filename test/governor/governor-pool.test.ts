import { afterEach, describe, expect, it } from 'vitest';
import { LocalGovernor, Pool, type ConcurrencyGovernor, type Slot } from 'corral';
import { fixture, rejection, until } from '../helpers/index.js';

const module = fixture('keyed-tasks.mjs');

function observer(): { observer: Int32Array; limits: Int32Array; epoch: Int32Array } {
  return {
    observer: new Int32Array(new SharedArrayBuffer(4 * 4 * 8)),
    limits: new Int32Array(new SharedArrayBuffer(4 * 8 * 16)).fill(2),
    epoch: new Int32Array(new SharedArrayBuffer(4)),
  };
}

const pools: Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.map((p) => p.shutdown({ force: true })));
  pools.length = 0;
});

describe('a pool with a governor', () => {
  it('holds a governor slot per keyed job: two pools sharing a governor of 2 never run 3 at once', async () => {
    const governor = new LocalGovernor(2);
    const obs = observer();
    const make = (): Pool => {
      const p = new Pool({
        module,
        threads: 2,
        concurrency: 4,
        workerData: obs,
        governor: (key) => (key === 'shared' ? governor : undefined),
      });
      pools.push(p);
      return p;
    };
    const [a, b] = [make(), make()];
    const jobs = [a, b].flatMap((p) =>
      Array.from({ length: 10 }, () =>
        p.do({ k: 0, ms: 20, key: 'shared' }, { task: 'hold', key: 'shared' }),
      ),
    );
    // A key without a governor is not held back by it.
    const free = Array.from({ length: 6 }, () =>
      a.do({ k: 1, ms: 20, key: 'free' }, { task: 'hold', key: 'free' }),
    );
    await Promise.all([...jobs, ...free]);
    expect(Atomics.load(obs.observer, 1)).toBe(2); // most at once, across both pools
    expect(Atomics.load(obs.observer, 2)).toBe(0); // never over
    expect(Atomics.load(obs.observer, 4 + 1)).toBeGreaterThan(2);
    expect(governor.active).toBe(0); // every slot was freed
  });

  it('an abort while waiting for a slot rejects and takes no slot', async () => {
    const governor = new LocalGovernor(1);
    const held = await governor.start();
    const p = new Pool({ module, threads: 1, governor: () => governor, workerData: observer() });
    pools.push(p);
    const controller = new AbortController();
    const waiting = p.do(1, { task: 'tiny', key: 'x', signal: controller.signal });
    await new Promise((r) => setTimeout(r, 20));
    controller.abort('no');
    expect((await rejection(waiting)).name).toBe('AbortError');
    await held.finish();
    expect(await p.do(2, { task: 'tiny', key: 'x' })).toBe(2);
    expect(governor.active).toBe(0);
  });

  it('a forced shutdown rejects jobs waiting for a slot with ERR_POOL_CLOSED', async () => {
    const governor = new LocalGovernor(1);
    const held = await governor.start();
    const p = new Pool({ module, threads: 1, governor: () => governor, workerData: observer() });
    const waiting = rejection(p.do(1, { task: 'tiny', key: 'x' }));
    await new Promise((r) => setTimeout(r, 20));
    await p.shutdown({ force: true });
    expect((await waiting).code).toBe('ERR_POOL_CLOSED');
    await held.finish();
    expect(governor.active).toBe(0);
  });

  it('a keyed job naming an unknown task before the threads are ready gives its slot back', async () => {
    const governor = new LocalGovernor(1);
    const p = new Pool({ module, threads: 1, governor: () => governor, workerData: observer() });
    pools.push(p);
    expect((await rejection(p.do(1, { task: 'nope', key: 'x' }))).code).toBe('ERR_UNKNOWN_TASK');
    expect(await p.do(2, { task: 'tiny', key: 'x' })).toBe(2);
    expect(governor.active).toBe(0);
  });

  it("a stream's abort cancels its jobs still waiting for a slot", async () => {
    const governor = new LocalGovernor(1);
    const held = await governor.start();
    const p = new Pool({ module, threads: 1, governor: () => governor, workerData: observer() });
    pools.push(p);
    const controller = new AbortController();
    const stream = p.wrap([1, 2, 3, 4, 5], {
      task: 'tiny',
      key: () => 'x',
      signal: controller.signal,
    });
    const ended = rejection(
      (async () => {
        for await (const o of stream) expect(o).toBeUndefined(); // every job waits for the slot
      })(),
    );
    await new Promise((r) => setTimeout(r, 30));
    controller.abort('stop');
    expect((await ended).name).toBe('AbortError');
    await held.finish();
    expect(governor.active).toBe(0);
  });

  it('a slot lost while the job runs aborts the job', async () => {
    const lose = new AbortController();
    let finished = 0;
    const governor: ConcurrencyGovernor = {
      start: () =>
        Promise.resolve<Slot>({
          seq: 1,
          signal: lose.signal,
          finish: () => {
            finished++;
            return Promise.resolve();
          },
        }),
    };
    const p = new Pool({ module, threads: 1, governor: () => governor, workerData: observer() });
    pools.push(p);
    const job = p.do({ k: 0, ms: 5_000, key: 'x' }, { task: 'hold', key: 'x' });
    await until(() => p.stats().running === 1);
    lose.abort(new Error('evicted'));
    const error = await rejection(job);
    expect(error.name).toBe('AbortError');
    expect((error.cause as Error).message).toBe('evicted');
    await until(() => finished === 1);
  });

  it('a slot already lost when it is granted aborts the job, and the slot is finished', async () => {
    let finished = 0;
    const governor: ConcurrencyGovernor = {
      start: () =>
        Promise.resolve<Slot>({
          seq: 1,
          signal: AbortSignal.abort(new Error('evicted')),
          finish: () => {
            finished++;
            return Promise.resolve();
          },
        }),
    };
    const p = new Pool({ module, threads: 1, governor: () => governor, workerData: observer() });
    pools.push(p);
    const error = await rejection(p.do(1, { task: 'tiny', key: 'x' }));
    expect(error.name).toBe('AbortError');
    expect((error.cause as Error).message).toBe('evicted');
    await until(() => finished === 1);
    expect(await p.do(2, { task: 'tiny' })).toBe(2);
    // The aborted job was counted out once and never ran.
    expect(p.stats()).toMatchObject({ queued: 0, running: 0, completed: 1, failed: 1 });
  });
});

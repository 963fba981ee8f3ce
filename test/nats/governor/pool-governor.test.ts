/**
 * The pool with NATS governors: keyed targets held cluster-wide. Two pools stand for two
 * processes; one JetStream governor per key limits them together.
 */
import { describe, expect, it } from 'vitest';
// The built package: worker threads run compiled JavaScript.
import { Pool } from 'corral';
import { Governor, GovernorManager } from 'corral/nats';
import { fixture } from '../../helpers/index.js';
import { storedEntries, uniqueName, useNatsServer } from '../../helpers/nats-setup.js';

const nats = useNatsServer();

describe('new Pool({ governor }) with NATS governors', () => {
  it('limits a key across two pools to the governor limit, and frees every entry', async () => {
    const name = uniqueName('pool');
    await GovernorManager.create(nats.nc, name, { limit: 2, maxAge: 30_000 });
    const governor = new Governor(nats.nc, name, { retryInterval: 20, maxRetryInterval: 100 });
    const obs = {
      observer: new Int32Array(new SharedArrayBuffer(4 * 4 * 8)),
      limits: new Int32Array(new SharedArrayBuffer(4 * 8 * 16)).fill(2),
      epoch: new Int32Array(new SharedArrayBuffer(4)),
    };
    const make = (): Pool =>
      new Pool({
        module: fixture('keyed-tasks.mjs'),
        threads: 2,
        concurrency: 4,
        workerData: obs,
        governor: (key) => (key === 'tenant' ? governor : undefined),
      });
    const pools = [make(), make()];
    try {
      const jobs = pools.flatMap((p) =>
        Array.from({ length: 6 }, () =>
          p.do({ k: 0, ms: 40, key: 'tenant' }, { task: 'hold', key: 'tenant' }),
        ),
      );
      await Promise.all(jobs);
      expect(Atomics.load(obs.observer, 1)).toBeLessThanOrEqual(2);
      expect(Atomics.load(obs.observer, 1)).toBeGreaterThanOrEqual(1);
      expect(Atomics.load(obs.observer, 2)).toBe(0);
      // Slots are given back asynchronously: wait for the stream to empty.
      for (let i = 0; i < 100 && (await storedEntries(nats.nc, name)).length > 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(await storedEntries(nats.nc, name)).toHaveLength(0);
    } finally {
      await Promise.all(pools.map((p) => p.shutdown({ force: true })));
    }
  });
});

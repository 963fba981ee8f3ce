/**
 * Two clients on one queue: each gets its own results only, however the hosts interleave
 * their jobs (results go to a subject per client, read by that client's own consumer).
 */
import { describe, expect, it } from 'vitest';
import { collect, remotePool, uniqueQueue, useQueueCluster } from '../../helpers/queue.js';

const cluster = useQueueCluster();

interface Tagged {
  client: string;
  n: number;
}

describe('two clients on one queue', () => {
  it('each get their own results, and only theirs', async () => {
    const queue = uniqueQueue();
    const connections = [await cluster.connect(), await cluster.connect()];
    const [a, b] = await Promise.all(connections.map((nc) => remotePool(nc, queue)));
    if (a === undefined || b === undefined) throw new Error('no pools');
    await cluster.startHosts(queue, 2);

    const inputs = (client: string): Tagged[] =>
      Array.from({ length: 5000 }, (_, n) => ({ client, n }));
    const [fromA, fromB, single] = await Promise.all([
      collect(a.wrap<Tagged, Tagged>(inputs('a'), { task: 'echo' })),
      collect(b.execute<Tagged, Tagged>(inputs('b'), { task: 'echo' })),
      Promise.all(
        Array.from({ length: 200 }, (_, n) =>
          b.do<Tagged>({ client: 'b-do', n }, { task: 'echo' }),
        ),
      ),
    ]);
    for (const [client, outcomes] of [
      ['a', fromA],
      ['b', fromB],
    ] as const) {
      expect(outcomes).toHaveLength(5000);
      expect(new Set(outcomes.map((o) => o.index)).size).toBe(5000);
      for (const o of outcomes) {
        if (!o.ok) throw new Error(`job ${o.index} failed: ${String(o.error)}`);
        expect(o.value).toEqual({ client, n: o.index });
      }
    }
    expect(single).toEqual(Array.from({ length: 200 }, (_, n) => ({ client: 'b-do', n })));
    expect(a.stats()).toMatchObject({ completed: 5000, duplicates: 0 });
    expect(b.stats()).toMatchObject({ completed: 5200, duplicates: 0 });
    await Promise.all([a.shutdown(), b.shutdown()]);
  }, 120_000);
});

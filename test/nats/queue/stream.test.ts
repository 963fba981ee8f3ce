/**
 * `wrap` and `execute` of a RemotePool: bounded by `window` across the cluster, ordered on
 * request, and stopped cleanly by `break` or an abort (the jobs still out are given up).
 */
import { describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { AbortError } from 'corral';
import { collect, remotePool, useQueueCluster } from '../../helpers/queue.js';

const cluster = useQueueCluster({ serve: { hosts: 2 } });
const { queue } = cluster;

describe('wrap across the cluster', () => {
  it('holds at most `window` inputs taken and not yet yielded', async () => {
    let taken = 0;
    let most = 0;
    let yielded = 0;
    function* source(): Generator<number> {
      for (let n = 0; n < 2000; n++) {
        taken++;
        yield n;
      }
    }
    for await (const o of cluster.pool.wrap<number, number>(source(), { window: 16 })) {
      yielded++;
      most = Math.max(most, taken - yielded);
      expect(o.ok && o.value).toBe(o.input * 2);
    }
    expect(yielded).toBe(2000);
    expect(most).toBeLessThanOrEqual(16);
    expect(most).toBeGreaterThan(1);
  });

  it('yields in input order with `ordered`', async () => {
    const inputs = Array.from({ length: 500 }, (_, i) => ({ ms: (i % 7) * 2 }));
    const outcomes = await collect(cluster.pool.execute(inputs, { task: 'hold', ordered: true }));
    expect(outcomes.map((o) => o.index)).toEqual(inputs.map((_, i) => i));
  });

  it('`break` gives up the jobs still out and returns without waiting for hosts', async () => {
    const inputs = Array.from({ length: 200 }, () => 200);
    let seen = 0;
    const started = Date.now();
    for await (const o of cluster.pool.wrap(inputs, { task: 'sleep' })) {
      expect(o.ok).toBe(true);
      if (++seen === 3) break;
    }
    // 200 jobs of 200 ms on 4 threads would take 10 s: the rest were given up, not awaited.
    expect(Date.now() - started).toBeLessThan(8000);
    await expect.poll(() => cluster.pool.stats().running, { timeout: 10_000 }).toBe(0);
    // And the pool carries on.
    expect(await cluster.pool.do(4)).toBe(8);
  });

  it('an abort ends the stream with the AbortError, after the outcomes already yielded', async () => {
    const controller = new AbortController();
    const outcomes: unknown[] = [];
    const error = await (async () => {
      for await (const o of cluster.pool.wrap(
        Array.from({ length: 100 }, () => 100),
        {
          task: 'sleep',
          signal: controller.signal,
        },
      )) {
        outcomes.push(o);
        if (outcomes.length === 2) controller.abort('enough');
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ cause: 'enough' });
    expect(outcomes).toHaveLength(2);
  });
});

describe('shutdown', () => {
  it('removes the client consumer it read results with', async () => {
    const client = await remotePool(cluster.nc, queue);
    expect(await client.do(1)).toBe(2);
    const jsm = await jetstreamManager(cluster.nc, { checkAPI: false });
    const names = async (): Promise<string[]> => {
      const list: string[] = [];
      for await (const c of jsm.consumers.list(`CORRAL_RESULTS_${queue}`)) list.push(c.name);
      return list;
    };
    expect(await names()).toContain(`client-${client.id}`);
    await client.shutdown();
    expect(await names()).not.toContain(`client-${client.id}`);
  });
});

/**
 * The nats-server stopped for 2 s mid-run and restarted on the same store: jobs and results
 * are in file-backed streams, publishes cut by the outage are retried with their message
 * ids, hosts and client reconnect, and the run completes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { useNatsServer } from '../helpers/nats-setup.js';
import {
  collect,
  connectClient,
  killAll,
  remotePool,
  requireBuild,
  startHost,
  uniqueQueue,
  type HostProcess,
  type Logged,
} from '../helpers/queue.js';

const nats = useNatsServer();
const hosts: HostProcess[] = [];
let nc: NatsConnection;

beforeAll(async () => {
  requireBuild();
  nc = await connectClient(nats.server.url);
});
afterAll(async () => {
  await killAll(hosts);
  await nc.close();
});

describe('a nats-server restart mid-run', () => {
  it('is survived: every job settles, correctly', async () => {
    const queue = uniqueQueue();
    const pool = await remotePool(nc, queue);
    for (let i = 0; i < 2; i++) hosts.push(startHost(nats.server.url, queue));
    await Promise.all(hosts.map((h) => h.ready));

    const inputs = Array.from({ length: 4000 }, (_, n) => ({ n, ms: 1 }));
    let restarted: Promise<void> | undefined;
    const outcomes = await collect(
      pool.wrap<{ n: number }, Logged>(inputs, { task: 'logged' }),
      (count) => {
        if (count === 1000) {
          restarted = (async () => {
            await nats.server.stop();
            await sleep(2000);
            await nats.server.start();
          })();
        }
      },
    );
    await restarted;
    expect(outcomes).toHaveLength(4000);
    expect(new Set(outcomes.map((o) => o.index)).size).toBe(4000);
    for (const o of outcomes) {
      if (!o.ok) throw new Error(`job ${o.index} failed: ${String(o.error)}`);
      expect(o.value.n).toBe(o.index * 2);
    }
    // Both hosts outlived the outage and are serving still.
    for (const host of hosts) expect(host.stderr()).not.toMatch(/stopped serving/);
    await pool.shutdown();
  }, 120_000);
});

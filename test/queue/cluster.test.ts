/**
 * The work queue across processes: 3 hosts of 2 threads, one client, 20,000 jobs through
 * `wrap`. Every input has exactly one outcome, it is correct, and every host ran some.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { useNatsServer } from '../helpers/nats-setup.js';
import {
  collect,
  connectClient,
  killAll,
  loggedJobs,
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

describe('a queue served by 3 hosts', () => {
  it('gives every one of 20,000 inputs exactly one correct outcome, and every host runs some', async () => {
    const queue = uniqueQueue();
    const pool = await remotePool(nc, queue);
    for (let i = 0; i < 3; i++) hosts.push(startHost(nats.server.url, queue, { threads: 2 }));
    await Promise.all(hosts.map((h) => h.ready));

    const inputs = loggedJobs(20_000);
    const outcomes = await collect(pool.wrap<{ n: number }, Logged>(inputs, { task: 'logged' }));

    expect(outcomes).toHaveLength(20_000);
    const seen = new Set<number>();
    const pids = new Set<number>();
    for (const o of outcomes) {
      expect(seen.has(o.index)).toBe(false);
      seen.add(o.index);
      expect(o.input).toBe(inputs[o.index]);
      if (!o.ok) throw new Error(`job ${o.index} failed: ${String(o.error)}`);
      expect(o.value.n).toBe(o.index * 2);
      pids.add(o.value.pid);
    }
    expect(seen.size).toBe(20_000);
    expect([...pids].sort()).toEqual(hosts.map((h) => h.pid).sort());
    const stats = pool.stats();
    expect(stats).toMatchObject({ completed: 20_000, failed: 0, queued: 0, running: 0 });
    await pool.shutdown();
  }, 120_000);
});

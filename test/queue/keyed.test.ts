/**
 * Keyed targets across the cluster go through the existing governors: hosts map a key to a
 * NATS governor (`corral serve --governor KEY=NAME`), and a remote job with that key holds
 * a slot of it while it runs, whichever host runs it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { GovernorManager } from 'corral/nats';
import { useNatsServer } from '../helpers/nats-setup.js';
import {
  collect,
  connectClient,
  killAll,
  mostAtOnce,
  remotePool,
  requireBuild,
  startHost,
  tempLog,
  uniqueQueue,
  type HostProcess,
} from '../helpers/queue.js';

const nats = useNatsServer();
const hosts: HostProcess[] = [];
const scratch = tempLog();
let nc: NatsConnection;

beforeAll(async () => {
  requireBuild();
  nc = await connectClient(nats.server.url);
});
afterAll(async () => {
  await killAll(hosts);
  await nc.close();
  scratch.remove();
});

describe('a key mapped to a governor on the hosts', () => {
  it('runs at most the governor limit of its jobs at once across hosts; unkeyed jobs run wider', async () => {
    const queue = uniqueQueue();
    const governor = uniqueQueue('g');
    await GovernorManager.create(nc, governor, { limit: 1, maxAge: 30_000 });
    const pool = await remotePool(nc, queue);
    const keyed = `${scratch.dir}/keyed.log`;
    const free = `${scratch.dir}/free.log`;
    const start = (spans: string): HostProcess =>
      startHost(nats.server.url, queue, { spans, args: ['--governor', `tenant=${governor}`] });

    hosts.push(start(keyed), start(keyed));
    await Promise.all(hosts.map((h) => h.ready));
    const jobs = Array.from({ length: 12 }, () => ({ ms: 40 }));
    const outcomes = await collect(pool.execute(jobs, { task: 'hold', key: () => 'tenant' }));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(mostAtOnce(keyed)).toEqual({ most: 1, spans: 12 });

    // The same jobs without a key run side by side on the 4 threads.
    await killAll(hosts.splice(0));
    hosts.push(start(free), start(free));
    await Promise.all(hosts.map((h) => h.ready));
    const unkeyed = await collect(pool.execute(jobs, { task: 'hold' }));
    expect(unkeyed.every((o) => o.ok)).toBe(true);
    expect(mostAtOnce(free).most).toBeGreaterThan(1);
    await pool.shutdown();
  }, 120_000);
});

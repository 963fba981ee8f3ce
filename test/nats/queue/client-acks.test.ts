/**
 * How a client acks its results, against a real nats-server, with the test playing the host
 * (it answers each job with a result message of its own, so results are many and small):
 * one ack covers many results, and acked results are purged from the server (none can come
 * back after a restart); a delivery the client missed makes it read from a new consumer,
 * which delivers the missed result and again the unacked ones after it (dropped as
 * duplicates); a consumer deleted under it is made again; a results stream made by an older
 * version (work-queue retention) gets an ack per result. Uses the built internals for the wire format.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { decodeJobs, encodeResults, ResultStatus } from '#internal/nats/queue/queue-codec.js';
import { ACK_DELAY } from '#internal/nats/queue/result-acks.js';
import { remotePool, uniqueQueue, useQueueCluster } from '../../helpers/queue.js';

const cluster = useQueueCluster();

/**
 * Plays the host of `queue`: every job (a number) is answered `input * 2`, each in a result
 * message of its own. Returns how to stop it.
 */
async function fakeHost(nc: NatsConnection, queue: string): Promise<ConsumerMessages> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(`CORRAL_QUEUE_${queue}`, 'hosts');
  return consumer.consume({
    max_messages: 64,
    callback: (message) => {
      const { clientId, jobs } = decodeJobs(message.data);
      void (async () => {
        for (const job of jobs) {
          const result = { id: job.id, status: ResultStatus.Ok, redelivered: false };
          const value = (job.input as number) * 2;
          await js.publish(
            `corral.queue.${queue}.results.${clientId}`,
            encodeResults('fake-host', 1, [{ ...result, value }]),
          );
        }
        await message.ackAck();
      })();
    },
  });
}

/** `request()`'s answer once it stops failing (within 10 s). */
async function untilOk<T>(request: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await request();
    } catch (error) {
      if (tries === 100) throw error;
      await sleep(100);
    }
  }
}

/** Counts the acks sent to a results stream's consumers. */
function countAcks(nc: NatsConnection, queue: string): () => number {
  let acks = 0;
  nc.subscribe(`$JS.ACK.CORRAL_RESULTS_${queue}.>`, {
    callback: () => {
      acks++;
    },
  });
  return () => acks;
}

/** A client whose first 10 jobs were answered by a fake host, and their results acked. */
async function tenAcked(): Promise<{
  queue: string;
  pool: Awaited<ReturnType<typeof remotePool>>;
  host: ConsumerMessages;
}> {
  const queue = uniqueQueue();
  const pool = await remotePool(cluster.nc, queue);
  const host = await fakeHost(await cluster.connect(), queue);
  const first = await Promise.all(Array.from({ length: 10 }, (_, n) => pool.do<number>(n)));
  expect(first).toEqual(Array.from({ length: 10 }, (_, n) => n * 2));
  await sleep(ACK_DELAY * 2);
  return { queue, pool, host };
}

describe('a client with its own results consumer', () => {
  it('acks many results at once, and leaves none to come back after a restart', async () => {
    const queue = uniqueQueue();
    const pool = await remotePool(cluster.nc, queue);
    const tap = await cluster.connect();
    const acks = countAcks(tap, queue);
    await tap.flush();
    const host = await fakeHost(await cluster.connect(), queue);

    const total = 300;
    const values = await Promise.all(Array.from({ length: total }, (_, n) => pool.do<number>(n)));
    expect(values).toEqual(Array.from({ length: total }, (_, n) => n * 2));
    await sleep(ACK_DELAY * 2);
    await tap.flush();
    // One result a message: an ack per result would be `total` acks.
    expect(acks()).toBeGreaterThan(0);
    expect(acks()).toBeLessThanOrEqual(total / 10);

    const jsm = await jetstreamManager(cluster.nc, { checkAPI: false });
    const consumer = `client-${pool.id}`;
    const before = await jsm.consumers.info(`CORRAL_RESULTS_${queue}`, consumer);
    expect(before.config.ack_policy).toBe(AckPolicy.All);
    expect(before.num_ack_pending).toBe(0);
    expect(before.delivered.stream_seq).toBe(total);
    // An ack-all removes nothing from a stream of limits retention: the client purges.
    await untilOk(async () => {
      const { messages } = (await jsm.streams.info(`CORRAL_RESULTS_${queue}`)).state;
      if (messages > 0) throw new Error(`${messages} results not purged`);
    });

    await cluster.server.restart(500);
    const after = await untilOk(() => jsm.consumers.info(`CORRAL_RESULTS_${queue}`, consumer));
    expect(after.num_ack_pending).toBe(0);
    expect(after.num_pending).toBe(0);
    expect((await jsm.streams.info(`CORRAL_RESULTS_${queue}`)).state.messages).toBe(0);
    // And it reads on.
    expect(await pool.do<number>(21)).toBe(42);
    expect(pool.stats()).toMatchObject({ completed: total + 1, duplicates: 0 });
    host.stop();
    await pool.shutdown();
  }, 60_000);

  it('reads from a new consumer after a missed delivery: the missed result comes, the unacked ones again', async () => {
    const queue = uniqueQueue();
    const pool = await remotePool(cluster.nc, queue);
    // Another connection pulls from the client's own consumer: the delivery it takes (and
    // never acks) is one the client misses.
    const thief = await cluster.connect();
    const stolen = (
      await jetstream(thief).consumers.get(`CORRAL_RESULTS_${queue}`, `client-${pool.id}`)
    ).next({ expires: 10_000 });
    await thief.flush();
    const host = await fakeHost(await cluster.connect(), queue);

    const total = 20;
    const values = await Promise.all(Array.from({ length: total }, (_, n) => pool.do<number>(n)));
    const taken = await stolen;
    expect(taken).not.toBeNull();
    expect(values).toEqual(Array.from({ length: total }, (_, n) => n * 2));
    // The result read before the client saw the gap came again from the new consumer.
    expect(pool.stats().duplicates).toBeGreaterThanOrEqual(1);
    expect(pool.stats().completed).toBe(total);

    const jsm = await jetstreamManager(cluster.nc, { checkAPI: false });
    const names: string[] = [];
    for await (const c of jsm.consumers.list(`CORRAL_RESULTS_${queue}`)) names.push(c.name);
    expect(names).toEqual([`client-${pool.id}-1`]);
    host.stop();
    await pool.shutdown();
    names.length = 0;
    for await (const c of jsm.consumers.list(`CORRAL_RESULTS_${queue}`)) names.push(c.name);
    expect(names).toEqual([]);
  }, 60_000);

  it('makes its consumer again when it is deleted, and reads on from after its last ack', async () => {
    const { queue, pool, host } = await tenAcked();

    const jsm = await jetstreamManager(cluster.nc, { checkAPI: false });
    await jsm.consumers.delete(`CORRAL_RESULTS_${queue}`, `client-${pool.id}`);
    const second = await Promise.all(Array.from({ length: 10 }, (_, n) => pool.do<number>(n + 10)));
    expect(second).toEqual(Array.from({ length: 10 }, (_, n) => (n + 10) * 2));
    const info = await jsm.consumers.info(`CORRAL_RESULTS_${queue}`, `client-${pool.id}`);
    // Made again starting after the results already acked: none of them came twice.
    expect(info.config.opt_start_seq).toBeGreaterThan(1);
    expect(pool.stats()).toMatchObject({ completed: 20, duplicates: 0 });
    host.stop();
    await pool.shutdown();
  }, 60_000);

  it('reads a results stream made again under it from its start, not from after the old last ack', async () => {
    const { queue, pool, host } = await tenAcked();

    // As an operator clearing stored results would: the stream deleted and made again, so
    // its sequences start at 1 again, below the client's last ack.
    const jsm = await jetstreamManager(cluster.nc, { checkAPI: false });
    const stream = `CORRAL_RESULTS_${queue}`;
    const { config } = await jsm.streams.info(stream);
    await jsm.streams.delete(stream);
    await jsm.streams.add(config);
    const second = Promise.all(Array.from({ length: 3 }, (_, n) => pool.do<number>(n + 10)));
    const late = sleep(15_000).then(() => 'results never delivered');
    expect(await Promise.race([second, late])).toEqual([20, 22, 24]);
    expect(pool.stats()).toMatchObject({ completed: 13, duplicates: 0 });
    host.stop();
    await pool.shutdown();
  }, 60_000);

  it('acks each result on a results stream of work-queue retention, as an older version made it', async () => {
    const queue = uniqueQueue();
    const jsm = await jetstreamManager(cluster.nc, { checkAPI: false });
    await jsm.streams.add({
      name: `CORRAL_RESULTS_${queue}`,
      subjects: [`corral.queue.${queue}.results.*`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
    });
    const pool = await remotePool(cluster.nc, queue);
    const tap = await cluster.connect();
    const acks = countAcks(tap, queue);
    await tap.flush();
    const host = await fakeHost(await cluster.connect(), queue);

    const total = 40;
    const values = await Promise.all(Array.from({ length: total }, (_, n) => pool.do<number>(n)));
    expect(values).toEqual(Array.from({ length: total }, (_, n) => n * 2));
    // The client's acks go out on its own connection: flushed there first (the server has
    // then passed them on), then on the tap's, which has them by its flush's answer.
    await cluster.nc.flush();
    await tap.flush();
    expect(acks()).toBe(total);
    const info = await jsm.consumers.info(`CORRAL_RESULTS_${queue}`, `client-${pool.id}`);
    expect(info.config.ack_policy).toBe(AckPolicy.Explicit);
    expect((await jsm.streams.info(`CORRAL_RESULTS_${queue}`)).state.messages).toBe(0);
    host.stop();
    await pool.shutdown();
  }, 60_000);
});

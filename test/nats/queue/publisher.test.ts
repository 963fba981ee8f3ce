/**
 * The stored publisher against a real nats-server: each publish is stored once and answered
 * on the publisher's own inbox (no request per publish), a conditional write that lost the
 * race is refused as JetStream refuses it, a lost answer is made good by sending the same
 * message id again, "no responders" waits for a stream that is starting (and only so long),
 * closing rejects what is pending, and a server restart loses nothing and stores nothing twice.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager, type PubAck } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { DurablePublisher } from '#internal/nats/queue/publisher.js';
import { isWrongLastSequence } from '#internal/nats/queue/layout.js';
import { isNoResponders, isStreamFull } from '#internal/nats/shared/jetstream-errors.js';
import { uniqueName, useNatsServer } from '../../helpers/nats-setup.js';

const nats = useNatsServer();
const encoder = new TextEncoder();

/** A stream on `<name>.>`; returns its name and subject prefix. */
async function addStream(nc: NatsConnection, storage: 'file' | 'memory' = 'memory') {
  const name = uniqueName('pub').replaceAll('-', '_');
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects: [`${name}.>`], storage });
  return { name, jsm };
}

/** Counts `nc.request()` calls from now on. */
function countRequests(nc: NatsConnection): { count: number } {
  const counter = { count: 0 };
  const request = nc.request.bind(nc);
  nc.request = (...args) => {
    counter.count++;
    return request(...args);
  };
  return counter;
}

/** Drops the first `count` messages delivered to subscriptions made from now on. */
function dropDeliveries(nc: NatsConnection, count: number): void {
  let left = count;
  const subscribe = nc.subscribe.bind(nc);
  nc.subscribe = (subject, options) => {
    const callback = options?.callback;
    if (callback === undefined) return subscribe(subject, options);
    return subscribe(subject, {
      ...options,
      callback: (error, message) => {
        if (left > 0) {
          left--;
          return;
        }
        void callback(error, message);
      },
    });
  };
}

describe('a stored publish', () => {
  it('is stored with its message id and answered without a request', async () => {
    const nc = await nats.connect();
    const { name, jsm } = await addStream(nc);
    const requests = countRequests(nc);
    const publisher = new DurablePublisher(nc);
    const acks = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        publisher.publish(`${name}.a`, encoder.encode(`m${i}`), `id-${i}`),
      ),
    );
    expect(acks.map((ack) => ack.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(acks[0]).toEqual({ stream: name, seq: 1, duplicate: false });
    expect(requests.count).toBe(0);
    const stored = await jsm.streams.getMessage(name, { seq: 7 });
    expect(stored?.header.get('Nats-Msg-Id')).toBe('id-6');
    expect(new TextDecoder().decode(stored?.data)).toBe('m6');
    // The same id again within the duplicate window: answered, not stored again.
    const again = await publisher.publish(`${name}.a`, encoder.encode('m6'), 'id-6');
    expect(again).toEqual({ stream: name, seq: 7, duplicate: true });
    expect(requests.count).toBe(1); // the getMessage
    expect(publisher.retries).toBe(0);
    publisher.close(new Error('done'));
  });

  it('with an expected last subject sequence is refused when another wrote first', async () => {
    const nc = await nats.connect();
    const { name, jsm } = await addStream(nc);
    const publisher = new DurablePublisher(nc);
    const subject = `${name}.mark`;
    const first = await publisher.publish(subject, encoder.encode('a'), 'mark-1', 0);
    // The same write sent again (its answer lost): the duplicate check comes first, so it is
    // answered as stored, not refused for its now wrong expectation.
    const again = await publisher.publish(subject, encoder.encode('a'), 'mark-1', 0);
    expect(again).toEqual({ ...first, duplicate: true });
    // Another host's write, expecting none before it: too late.
    const late = await publisher
      .publish(subject, encoder.encode('b'), 'mark-2', 0)
      .catch((error: unknown) => error);
    expect(isWrongLastSequence(late)).toBe(true);
    // Expecting the right one, on a subject that has others' messages in between.
    await publisher.publish(`${name}.other`, encoder.encode('x'), 'other-1');
    const next = await publisher.publish(subject, encoder.encode('c'), 'mark-3', first.seq);
    expect(next.seq).toBe(3);
    expect((await jsm.streams.info(name)).state.messages).toBe(3);
    expect(publisher.retries).toBe(0);
    publisher.close(new Error('done'));
  });

  it('whose answer is lost is sent again with its id, and stored once', async () => {
    const nc = await nats.connect();
    const { name, jsm } = await addStream(nc);
    dropDeliveries(nc, 1);
    const publisher = new DurablePublisher(nc, { timeout: 200 });
    const ack = await publisher.publish(`${name}.a`, encoder.encode('once'), 'lost-answer');
    expect(publisher.retries).toBe(1);
    expect(ack).toEqual({ stream: name, seq: 1, duplicate: true });
    expect((await jsm.streams.info(name)).state.messages).toBe(1);
    publisher.close(new Error('done'));
  });

  it('briefly unavailable is sent again; refused for good rejects with the API error', async () => {
    const nc = await nats.connect();
    // A stand-in for JetStream on a plain subject: what it answers is up to the test.
    const answers = [
      {
        error: {
          code: 503,
          err_code: 10008,
          description: 'JetStream system temporarily unavailable',
        },
      },
      { stream: 'FAKE', seq: 41 },
      { error: { code: 503, err_code: 10077, description: 'maximum messages exceeded' } },
    ];
    const subject = uniqueName('fake');
    const ids: string[] = [];
    nc.subscribe(subject, {
      callback: (_error, m) => {
        ids.push(m.headers?.get('Nats-Msg-Id') ?? '');
        m.respond(JSON.stringify(answers.shift()));
      },
    });
    await nc.flush();
    const publisher = new DurablePublisher(nc);
    const ack = await publisher.publish(subject, encoder.encode('x'), 'fake-1');
    expect(ack).toEqual({ stream: 'FAKE', seq: 41, duplicate: false });
    expect(ids).toEqual(['fake-1', 'fake-1']);
    expect(publisher.retries).toBe(1);
    const full = await publisher
      .publish(subject, encoder.encode('y'), 'fake-2')
      .catch((error: unknown) => error);
    expect(isStreamFull(full)).toBe(true);
    expect(publisher.retries).toBe(1);
    publisher.close(new Error('done'));
  });

  it('waits for a stream still missing, and gives up on one that stays missing', async () => {
    const nc = await nats.connect();
    const publisher = new DurablePublisher(nc, { streamWait: 10_000 });
    const name = uniqueName('late').replaceAll('-', '_');
    const stored = publisher.publish(`${name}.a`, encoder.encode('late'), 'late-1');
    await sleep(400);
    expect(publisher.retries).toBeGreaterThan(0);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name, subjects: [`${name}.>`], storage: 'memory' });
    expect((await stored).seq).toBe(1);

    const impatient = new DurablePublisher(nc, { streamWait: 300 });
    const started = performance.now();
    const error = await impatient
      .publish(`${uniqueName('never')}.a`, encoder.encode('x'), 'never-1')
      .catch((e: unknown) => e);
    expect(isNoResponders(error)).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    publisher.close(new Error('done'));
    impatient.close(new Error('done'));
  });

  it('still pending when the publisher closes rejects with the reason', async () => {
    const nc = await nats.connect();
    // Someone listens and never answers: the publish stays in flight.
    const silent = uniqueName('silent');
    nc.subscribe(`${silent}.>`, { callback: () => undefined });
    await nc.flush();
    const publisher = new DurablePublisher(nc, { timeout: 60_000 });
    const inFlight = publisher.publish(`${silent}.a`, encoder.encode('x'), 'silent-1');
    // No stream at all: it pauses between sends of "no responders".
    const waiting = publisher.publish(`${uniqueName('none')}.a`, encoder.encode('x'), 'none-1');
    await sleep(200);
    publisher.close(new Error('closed for the test'));
    await expect(inFlight).rejects.toThrow('closed for the test');
    await expect(waiting).rejects.toThrow('closed for the test');
    await expect(publisher.publish(`${silent}.a`, encoder.encode('y'), 'after')).rejects.toThrow(
      'closed for the test',
    );
  });

  it('rejects when the connection closes', async () => {
    const nc = await nats.connect();
    const silent = uniqueName('silent');
    nc.subscribe(`${silent}.>`, { callback: () => undefined });
    await nc.flush();
    const publisher = new DurablePublisher(nc, { timeout: 60_000 });
    const inFlight = publisher.publish(`${silent}.a`, encoder.encode('x'), 'silent-1');
    await nc.close();
    await expect(inFlight).rejects.toMatchObject({ code: 'ERR_QUEUE_CONNECTION_CLOSED' });
  });
});

describe('stored publishes across a graceful server restart', () => {
  it('are all stored once, those cut off sent again on reconnecting', async () => {
    const nc = await nats.connect({ maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const { name, jsm } = await addStream(nc, 'file');
    // A timeout far longer than the test: only the reconnection sends anything again.
    const publisher = new DurablePublisher(nc, { timeout: 60_000 });
    const acks: Promise<PubAck>[] = [];
    const server = { down: false };
    const stopped = nats.server.stop().then(() => (server.down = true));
    // One publish a millisecond from SIGTERM until the server has exited, then a few while down.
    let i = 0;
    while (!server.down) {
      acks.push(publisher.publish(`${name}.a`, encoder.encode(`m${i}`), `restart-${i}`));
      i++;
      await sleep(1);
    }
    await stopped;
    for (let j = 0; j < 20; j++, i++) {
      acks.push(publisher.publish(`${name}.a`, encoder.encode(`m${i}`), `restart-${i}`));
    }
    await sleep(1000);
    await nats.server.start();
    const settled = await Promise.all(acks);
    expect(settled).toHaveLength(i);
    const seqs = new Set(settled.map((ack) => ack.seq));
    expect(seqs.size).toBe(i);
    expect((await jsm.streams.info(name)).state.messages).toBe(i);
    console.log(`${i} publishes around the restart, ${publisher.retries} sent again`);
    expect(publisher.retries).toBeGreaterThan(0);
    publisher.close(new Error('done'));
  }, 60_000);
});

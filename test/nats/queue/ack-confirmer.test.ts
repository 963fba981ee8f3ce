/**
 * Acks sent in the moments after nats-server receives SIGTERM: the server still passes
 * messages on while JetStream has stopped, so a plain ack sent then is lost and its message
 * comes back after the restart. The confirmer's acks are answered or sent again (after a
 * pause, and on reconnecting) until they are, so none of the messages it acked comes back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { AckConfirmer } from '#internal/nats/queue/ack-confirmer.js';
import { useNatsServer } from '../../helpers/nats-setup.js';

const nats = useNatsServer();

const COUNT = 300;

describe('acks confirmed across a graceful server restart', () => {
  it('acks sent just after SIGTERM hold: no acked message comes back', async () => {
    const nc = await nats.connect({ maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: 'ACKS',
      subjects: ['acks.jobs'],
      retention: 'workqueue',
      storage: 'file',
    });
    await jsm.consumers.add('ACKS', {
      durable_name: 'hosts',
      ack_policy: AckPolicy.Explicit,
      ack_wait: 3_000_000_000,
      max_deliver: -1,
    });
    const js = jetstream(nc);
    await Promise.all(Array.from({ length: COUNT }, (_, i) => js.publish('acks.jobs', `job ${i}`)));
    const consumer = await js.consumers.get('ACKS', 'hosts');
    const held: JsMsg[] = [];
    for await (const m of await consumer.fetch({ max_messages: COUNT, expires: 2000 })) {
      held.push(m);
      if (held.length === COUNT) break;
    }
    const confirmer = new AckConfirmer(nc, 1000);
    void (async () => {
      for await (const status of nc.status())
        if (status.type === 'reconnect') confirmer.reconnected();
    })();

    // SIGTERM, then one ack a millisecond until the server has exited.
    // An object: TypeScript would take a local flag set in a callback for always false.
    const server = { down: false };
    const stopped = nats.server.stop().then(() => (server.down = true));
    const acked = new Set<number>();
    const confirms: Promise<void>[] = [];
    for (const m of held) {
      if (server.down) break;
      acked.add(m.seq);
      confirms.push(confirmer.confirm(m));
      await sleep(1);
    }
    await stopped;
    expect(acked.size).toBeGreaterThan(0);
    await sleep(2000);
    await nats.server.start();
    await Promise.all(confirms);

    // Whatever comes back within the ack wait and a second was not acked for good.
    const back = new Set<number>();
    const end = performance.now() + 4000;
    const after = await js.consumers.get('ACKS', 'hosts');
    while (performance.now() < end) {
      const batch = await after.fetch({ max_messages: COUNT, expires: 1000 }).catch(() => []);
      for await (const m of batch) {
        back.add(m.seq);
        m.ack();
      }
    }
    const lost = [...acked].filter((seq) => back.has(seq));
    console.log(
      `${acked.size} acks sent after SIGTERM, ${confirmer.retries} sent again, ${lost.length} came back`,
    );
    expect(lost).toEqual([]);
    confirmer.stop(new Error('done'));
  }, 60_000);
});

describe("answers matched on the confirmer's own inbox", () => {
  it('sends no request per ack, and sends again an ack left unanswered or refused', async () => {
    const nc = await nats.connect();
    const requests = { count: 0 };
    const request = nc.request.bind(nc);
    nc.request = (...args) => {
      requests.count++;
      return request(...args);
    };
    // A stand-in for a message's reply subject: the first ack is swallowed, the rest answered.
    const seen = { acks: 0 };
    nc.subscribe('acks.reply.swallow', {
      callback: (_error, m) => {
        if (seen.acks++ > 0) m.respond();
      },
    });
    await nc.flush();
    const confirmer = new AckConfirmer(nc, 200);
    const message = (reply: string): JsMsg => ({ reply }) as unknown as JsMsg;
    await confirmer.confirm(message('acks.reply.swallow'));
    expect(seen.acks).toBe(2);
    expect(confirmer.retries).toBe(1);

    // Nobody on the subject: the server answers "no responders", and the ack goes again
    // until someone answers it.
    const late = confirmer.confirm(message('acks.reply.late'));
    await sleep(300);
    expect(confirmer.retries).toBeGreaterThan(1);
    nc.subscribe('acks.reply.late', {
      callback: (_error, m) => {
        m.respond();
      },
    });
    await late;
    expect(requests.count).toBe(0);

    // Stopped: an ack still unanswered rejects with the reason.
    const never = confirmer.confirm(message('acks.reply.nobody'));
    confirmer.stop(new Error('stopped'));
    await expect(never).rejects.toThrow('stopped');
  }, 30_000);
});

// @ts-check
/**
 * The CPU one stored publish costs the publishing process (and nats-server): the JetStream
 * client's `js.publish()` with a message id (what corral's DurablePublisher wrapped before
 * issue 20) against corral's pipelined DurablePublisher, on the same connection and stream.
 *
 *   node bench/cluster/publish-cost.js [count=3000] [rounds=5]
 *
 * Two patterns, as the queue publishes: `one at a time` (await each answer before the next:
 * a host's started marks and result flushes) and `64 in flight` (a client's outbox during a
 * large batch). Rounds alternate the two publishers, and the median of the rounds is printed
 * in µs of CPU per publish: this process (user + system, `process.cpuUsage()`) and the
 * server (`/proc`). Also the cost of building a publish's headers alone, nats.js's
 * `headers()` + `set()` + `encode()` against corral's `PublishHeaders`.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { cpuMsOf } from '../lib/machine.js';
import { freePort, startHelper } from './processes.js';

const count = Number(process.argv[2] ?? 3000);
const rounds = Number(process.argv[3] ?? 5);
const dist = new URL('../../dist/src/nats/queue/', import.meta.url);
/** @typedef {{ publish(s: string, d: Uint8Array, id: string): Promise<unknown>, close(e: Error): void }} Publisher */
// Modules of the build, not of the package's API: loaded as unknown and typed here.
/** @type {unknown} */
const publisherModule = await import(new URL('publisher.js', dist).href);
/** @type {unknown} */
const wireModule = await import(new URL('publish-wire.js', dist).href);
const { DurablePublisher } = /** @type {{ DurablePublisher: new (nc: unknown) => Publisher }} */ (
  publisherModule
);
const { PublishHeaders } =
  /** @type {{ PublishHeaders: new (id: string, last?: number) => { encode(): Uint8Array } }} */ (
    wireModule
  );

/** @param {number[]} values */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** CPU ms of this process so far. */
function ownMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Runs `count` publishes through `publish`, at most `window` unanswered at once; returns
 * the µs of CPU per publish of this process and of the server.
 * @param {(i: number) => Promise<unknown>} publish
 * @param {number} window
 * @param {number} serverPid
 */
async function measure(publish, window, serverPid) {
  const own0 = ownMs();
  const server0 = cpuMsOf([serverPid]);
  let next = 0;
  const lanes = Array.from({ length: window }, async () => {
    while (next < count) await publish(next++);
  });
  await Promise.all(lanes);
  return {
    own: ((ownMs() - own0) * 1000) / count,
    server: ((cpuMsOf([serverPid]) - server0) * 1000) / count,
  };
}

/** µs per call of `make`, over many calls. @param {(i: number) => unknown} make */
function microUs(make) {
  const n = 200_000;
  for (let i = 0; i < 10_000; i++) make(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) make(i);
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

async function main() {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'corral-pubcost-'));
  const server = await startHelper(
    'nats-server',
    '/usr/sbin/nats-server',
    ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir],
    'Server is ready',
  );
  const nc = await connect({ servers: `nats://127.0.0.1:${port}` });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: 'PUBCOST',
      subjects: ['pubcost.>'],
      storage: 'memory',
      max_msgs: 100_000,
    });
    const js = jetstream(nc);
    const durable = new DurablePublisher(nc);
    const data = new Uint8Array(200).fill(65);
    let ids = 0;
    /** @type {Record<string, (i: number) => Promise<unknown>>} */
    const publishers = {
      'js.publish': () => js.publish('pubcost.a', data, { msgID: `j${ids++}` }),
      DurablePublisher: () => durable.publish('pubcost.a', data, `d${ids++}`),
    };
    /** @type {Record<string, { own: number[], server: number[] }>} */
    const results = {};
    for (const window of [1, 64]) {
      // A round of each first, for the JIT.
      for (const publish of Object.values(publishers)) await measure(publish, window, server.pid);
      for (let round = 0; round < rounds; round++) {
        for (const [name, publish] of Object.entries(publishers)) {
          const m = await measure(publish, window, server.pid);
          const row = (results[
            `${name}, ${window === 1 ? 'one at a time' : `${window} in flight`}`
          ] ??= { own: [], server: [] });
          row.own.push(m.own);
          row.server.push(m.server);
          await jsm.streams.purge('PUBCOST');
        }
      }
    }
    console.log(`${count} publishes x ${rounds} rounds, median µs of CPU per publish`);
    for (const [name, row] of Object.entries(results)) {
      console.log(
        `  ${name.padEnd(36)} publisher ${median(row.own).toFixed(1).padStart(6)}   server ${median(row.server).toFixed(1).padStart(6)}`,
      );
    }
    const natsHeaders = microUs((i) => {
      const h = headers();
      h.set('Nats-Msg-Id', `host.${i}`);
      h.set('Nats-Expected-Last-Subject-Sequence', `${i}`);
      // What nc.publish() calls on them (MsgHdrsImpl; the MsgHdrs type does not say it).
      return /** @type {{ encode(): Uint8Array }} */ (/** @type {unknown} */ (h)).encode();
    });
    const ownHeaders = microUs((i) => new PublishHeaders(`host.${i}`, i).encode());
    console.log(
      `  headers of one publish: nats.js ${natsHeaders.toFixed(2)} µs, PublishHeaders ${ownHeaders.toFixed(2)} µs`,
    );
    durable.close(new Error('done'));
  } finally {
    await nc.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

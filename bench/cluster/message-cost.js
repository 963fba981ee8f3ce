// @ts-check
/**
 * What one job and one job message cost on the cluster, per process: scenario 8's setup (a
 * client here, 2 hosts of 1 thread, a fresh nats-server) running 100,000 tiny jobs and 400
 * jobs of 5 ms, each measured `--runs` times (default 3). Per batch it prints:
 * - jobs/s (tiny) or efficiency (5 ms: inline time / 2 / wall);
 * - CPU per job of the client, the server and the hosts (`/proc`; the hosts' task time taken
 *   out for 5 ms jobs), the figure to trust on a shared machine;
 * - JetStream operations: job messages, started marks and result messages stored (stream
 *   sequences), and the messages each connection sent the server (`/connz`), per job message;
 *
 *   node bench/cluster/message-cost.js [--runs N] [--only tiny|cpu]
 */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { parseArgs } from 'node:util';
import { calibrateCpu } from '../lib/calibrate.js';
import { cpuMsOf } from '../lib/machine.js';
import { loadCorralNats } from './corral-nats-api.js';
import { freePort, startHelper } from './processes.js';

const hostScript = fileURLToPath(new URL('./corral-host.js', import.meta.url));
const QUEUE = 'bench';
const HOSTS = 2;

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, only: { type: 'string' } },
});
const runs = Number(values.runs);

/**
 * @param {number} port
 * @returns {Promise<Map<string, { in: number, out: number }>>} messages each named connection sent (in) and got (out)
 */
async function connz(port) {
  const res = await fetch(`http://127.0.0.1:${port}/connz?limit=100`);
  /** @type {unknown} */
  const json = await res.json();
  const body =
    /** @type {{ connections: { name?: string, in_msgs: number, out_msgs: number }[] }} */ (json);
  /** @type {Map<string, { in: number, out: number }>} */
  const by = new Map();
  for (const c of body.connections) {
    if (c.name !== undefined) by.set(c.name, { in: c.in_msgs, out: c.out_msgs });
  }
  return by;
}

async function main() {
  const { RemotePool } = await loadCorralNats();
  const port = await freePort();
  const mport = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'corral-message-cost-'));
  const server = await startHelper(
    'nats-server',
    'nats-server',
    ['-js', '-a', '127.0.0.1', '-p', String(port), '-m', String(mport), '-sd', dir],
    'Server is ready',
  );
  const url = `nats://127.0.0.1:${port}`;
  /** @type {import('./processes.js').Helper[]} */
  const hosts = [];
  for (let i = 0; i < HOSTS; i++) {
    hosts.push(
      await startHelper(`host ${i}`, process.execPath, [hostScript, url, QUEUE, '1'], 'ready'),
    );
  }
  const nc = await connect({ servers: url, name: 'client' });
  const jsm = await jetstreamManager(nc);
  const pool = new RemotePool(nc, QUEUE);
  await pool.ready();
  const { iters, perTaskMs } = calibrateCpu(5);

  const lastSeq = async (/** @type {string} */ stream) =>
    (await jsm.streams.info(stream)).state.last_seq;

  /**
   * @param {string} label
   * @param {unknown[]} inputs
   * @param {'tiny' | 'cpu'} task
   * @param {number} taskMs the batch's task time, inline
   */
  const measure = async (label, inputs, task, taskMs) => {
    const seq0 = await Promise.all(
      ['CORRAL_QUEUE_', 'CORRAL_STARTED_', 'CORRAL_RESULTS_'].map((s) => lastSeq(s + QUEUE)),
    );
    const conn0 = await connz(mport);
    const own0 = process.cpuUsage();
    const server0 = cpuMsOf([server.pid]);
    const hosts0 = cpuMsOf(hosts.map((h) => h.pid));
    const t0 = performance.now();
    const out = await collect(pool.execute(inputs, { task }));
    const wall = performance.now() - t0;
    const own = process.cpuUsage(own0);
    const serverMs = cpuMsOf([server.pid]) - server0;
    const hostsMs = cpuMsOf(hosts.map((h) => h.pid)) - hosts0 - taskMs;
    const conn1 = await connz(mport);
    const seq1 = await Promise.all(
      ['CORRAL_QUEUE_', 'CORRAL_STARTED_', 'CORRAL_RESULTS_'].map((s) => lastSeq(s + QUEUE)),
    );
    const failed = out.filter((o) => !o.ok).length;
    if (failed > 0) throw new Error(`${failed} jobs failed`);
    const n = inputs.length;
    const [msgs = 0, marks = 0, results = 0] = seq1.map((s, i) => s - (seq0[i] ?? 0));
    const sent = (/** @type {string} */ name) =>
      (conn1.get(name)?.in ?? 0) - (conn0.get(name)?.in ?? 0);
    let hostSent = 0;
    for (const name of conn1.keys()) if (name.startsWith('host ')) hostSent += sent(name);
    const m = msgs || 1;
    const rate =
      task === 'tiny'
        ? `${Math.round((n / wall) * 1000)} jobs/s`
        : `efficiency ${(taskMs / HOSTS / wall).toFixed(3)}`;
    console.log(
      `${label}: ${rate}, wall ${Math.round(wall)} ms | CPU ms/job client ${((own.user + own.system) / 1000 / n).toFixed(3)} server ${(serverMs / n).toFixed(3)} hosts ${(hostsMs / n).toFixed(3)}` +
        ` | ${msgs} job msgs (${(n / m).toFixed(1)} jobs each); per job msg: ${(marks / m).toFixed(2)} marks, ${(results / m).toFixed(2)} result msgs,` +
        ` hosts sent ${(hostSent / m).toFixed(2)} msgs, client sent ${(sent('client') / m).toFixed(2)}`,
    );
  };

  try {
    const only = values.only;
    const tiny = Array.from({ length: 100_000 }, (_, i) => i);
    const cpu = new Array(400).fill(iters);
    // Warm up as scenario 8 does: each kind on its own, so that the hosts' estimate is of it.
    if (only !== 'cpu') {
      await collect(
        pool.execute(
          Array.from({ length: 20_000 }, (_, i) => i),
          { task: 'tiny' },
        ),
      );
      for (let r = 0; r < runs; r++) await measure(`tiny #${r + 1}`, tiny, 'tiny', 0);
    }
    if (only !== 'tiny') {
      for (let round = 0; round < 3; round++)
        await collect(pool.execute(new Array(16).fill(iters), { task: 'cpu' }));
      for (let r = 0; r < runs; r++) await measure(`5 ms #${r + 1}`, cpu, 'cpu', 400 * perTaskMs);
    }
  } finally {
    await pool.shutdown();
    await Promise.all(hosts.map((h) => h.stop()));
    await nc.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * @param {AsyncIterable<{ ok: boolean }>} stream
 * @returns {Promise<{ ok: boolean }[]>}
 */
async function collect(stream) {
  const out = [];
  for await (const o of stream) out.push(o);
  return out;
}

main().catch((/** @type {unknown} */ error) => {
  console.error(error);
  process.exit(1);
});

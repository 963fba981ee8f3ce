// @ts-check
/**
 * Where scenario 8's CPU goes, per process: a nats-server (with its monitoring port), two
 * corral hosts of one thread and a `RemotePool` client in this process, one batch of CPU
 * jobs, and each process's CPU per job read from /proc, with the messages the server passed
 * (its `/varz` and `/connz` counts) per job and per second.
 *
 *   node bench/cluster/cost.js [count=400] [ms=5] [--prof DIR]
 *
 * `--prof DIR` starts the hosts with `--cpu-prof` (profiles written to DIR when they exit).
 */
import { connect } from '@nats-io/transport-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { calibrateCpu } from '../lib/calibrate.js';
import { cpuMsOf, mainThreadCpuMsOf } from '../lib/machine.js';
import { cpu } from '../lib/tasks.js';
import { loadCorralNats } from './corral-nats-api.js';
import { freePort, startHelper } from './processes.js';

const args = process.argv.slice(2);
const profAt = args.indexOf('--prof');
const profDir = profAt === -1 ? undefined : args.splice(profAt, 2)[1];
const tapAt = args.indexOf('--tap');
const tap = tapAt !== -1;
if (tap) args.splice(tapAt, 1);
const count = Number(args[0] ?? 400);
const jobMs = Number(args[1] ?? 5);
const hostScript = fileURLToPath(new URL('./corral-host.js', import.meta.url));

/**
 * @typedef {object} Conn
 * @property {number} cid
 * @property {string} [name]
 * @property {number} in_msgs
 * @property {number} out_msgs
 * @property {number} subscriptions
 */

/**
 * The server's message counts (`/varz`) and its connections' (`/connz`).
 * @param {number} port the monitoring port
 * @returns {Promise<{ in_msgs: number, out_msgs: number, connections: Conn[] }>}
 */
async function monitor(port) {
  /** @type {unknown} */
  const v = await (await fetch(`http://127.0.0.1:${port}/varz`)).json();
  /** @type {unknown} */
  const c = await (await fetch(`http://127.0.0.1:${port}/connz`)).json();
  const varz = /** @type {{ in_msgs: number, out_msgs: number }} */ (v);
  const connz = /** @type {{ connections: Conn[] }} */ (c);
  return { in_msgs: varz.in_msgs, out_msgs: varz.out_msgs, connections: connz.connections };
}

/**
 * CPU ms of each thread of a process, summed by thread name.
 * @param {number} pid
 * @returns {Map<string, number>}
 */
function threadsOf(pid) {
  /** @type {Map<string, number>} */
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name =
        stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) +
        (tid === String(pid) ? ' [main]' : process.env.TIDS ? ` ${tid}` : '');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (process.env.SPLIT) {
        // User and system time apart (SPLIT=1): what the kernel does for a thread's syscalls.
        out.set(`${name} user`, (out.get(`${name} user`) ?? 0) + Number(f[11]) * 10);
        out.set(`${name} sys`, (out.get(`${name} sys`) ?? 0) + Number(f[12]) * 10);
      } else out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) * 10);
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * @param {string} label
 * @param {Map<string, number>} a
 * @param {Map<string, number>} b
 * @param {number} jobs
 */
function printThreads(label, a, b, jobs) {
  const parts = [];
  for (const [name, ms] of b) {
    const d = ms - (a.get(name) ?? 0);
    if (d > 0) parts.push(`${name} ${(d / jobs).toFixed(2)}`);
  }
  console.log(`  ${label} threads ms/job: ${parts.join(', ')}`);
}

async function main() {
  const { RemotePool } = await loadCorralNats();
  const port = await freePort();
  const mport = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'corral-cost-'));
  const server = await startHelper(
    'nats-server',
    '/usr/sbin/nats-server',
    ['-js', '-a', '127.0.0.1', '-p', String(port), '-m', String(mport), '-sd', dir],
    'Server is ready',
  );
  const url = `nats://127.0.0.1:${port}`;
  const hosts = [];
  try {
    for (let i = 0; i < 2; i++) {
      const flags =
        profDir === undefined
          ? []
          : [
              '--cpu-prof',
              `--cpu-prof-interval=${process.env.PROF_US ?? 250}`,
              `--cpu-prof-dir=${profDir}`,
            ];
      hosts.push(
        await startHelper(
          `host ${i}`,
          process.execPath,
          [...flags, hostScript, url, 'bench', '1'],
          'ready',
        ),
      );
    }
    const nc = await connect({ servers: url });
    const pool = new RemotePool(nc, 'bench');
    await pool.ready();
    const { iters: iters5 } = calibrateCpu(5);
    const iters = Math.round((iters5 * jobMs) / 5);
    /** @param {number} n */
    const batch = async (n) => {
      let got = 0;
      for await (const o of pool.execute(new Array(n).fill(iters), { task: 'cpu' })) {
        if (!o.ok) throw o.error;
        got++;
      }
      return got;
    };
    for (let round = 0; round < 3; round++) await batch(16);
    const runs = Math.max(10, Math.min(40, count / 10));
    cpu(iters);
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) cpu(iters);
    const taskMs = ((performance.now() - t0) / runs) * count;

    /** @type {Map<string, number>} */
    const subjects = new Map();
    const tapConn = tap ? await connect({ servers: url }) : undefined;
    tapConn?.subscribe('>', {
      callback: (_e, m) => {
        const key = m.subject
          .replace(/^_INBOX\.[^.]+.*/, '_INBOX.*')
          .replace(/^\$JS\.ACK\..*/, '$JS.ACK.*')
          .replace(/\.[0-9a-f]{16,}/g, '.<id>')
          .replace(/\.\d+$/, '.<n>');
        const k = `${key}${m.data.length === 0 ? ' (empty)' : ''}`;
        subjects.set(k, (subjects.get(k) ?? 0) + 1);
      },
    });
    await tapConn?.flush();
    const pids = hosts.map((h) => h.pid);
    const varz0 = await monitor(mport);
    const threads0 = [process.pid, server.pid, ...pids].map(threadsOf);
    const own0 = process.cpuUsage();
    const clientMain0 = mainThreadCpuMsOf([process.pid]);
    const server0 = cpuMsOf([server.pid]);
    const hosts0 = pids.map((pid) => cpuMsOf([pid]));
    const mains0 = mainThreadCpuMsOf(pids);
    const t1 = performance.now();
    await batch(count);
    const wallMs = performance.now() - t1;
    const own = process.cpuUsage(own0);
    const threads1 = [process.pid, server.pid, ...pids].map(threadsOf);
    const clientMainMs = mainThreadCpuMsOf([process.pid]) - clientMain0;
    const serverMs = cpuMsOf([server.pid]) - server0;
    const hostMs = pids.map((pid, i) => cpuMsOf([pid]) - (hosts0[i] ?? 0));
    const mainMs = mainThreadCpuMsOf(pids) - mains0;
    const varz1 = await monitor(mport);
    const per = (/** @type {number} */ v) => (v / count).toFixed(3);
    const hostSum = hostMs.reduce((a, b) => a + b, 0);
    console.log(
      JSON.stringify({
        count,
        jobMs,
        wallMs: Math.round(wallMs),
        efficiency: +(taskMs / 2 / wallMs).toFixed(3),
        clientMsPerJob: per((own.user + own.system) / 1000),
        clientMainMsPerJob: per(clientMainMs),
        serverMsPerJob: per(serverMs),
        hostsOutsideTaskMsPerJob: per(hostSum - taskMs),
        hostsMainMsPerJob: per(mainMs),
        serverInMsgsPerJob: per(varz1.in_msgs - varz0.in_msgs),
        serverOutMsgsPerJob: per(varz1.out_msgs - varz0.out_msgs),
        serverInMsgsPerSec: Math.round(((varz1.in_msgs - varz0.in_msgs) / wallMs) * 1000),
      }),
    );
    ['client', 'server', 'host 1', 'host 2'].forEach((label, i) => {
      /** @type {Map<string, number>} */
      const none = new Map();
      printThreads(label, threads0[i] ?? none, threads1[i] ?? none, count);
    });
    const before = new Map(varz0.connections.map((c) => [c.cid, c]));
    for (const c of varz1.connections) {
      const b = before.get(c.cid) ?? { in_msgs: 0, out_msgs: 0 };
      console.log(
        `  conn ${c.cid} ${c.name ?? ''} in ${per(c.in_msgs - b.in_msgs)}/job out ${per(c.out_msgs - b.out_msgs)}/job subs ${c.subscriptions}`,
      );
    }
    for (const [k, v] of [...subjects].sort((a, b) => b[1] - a[1]))
      console.log(`  ${per(v)}/job ${k}`);
    await tapConn?.close();
    await pool.shutdown();
    await Promise.all(hosts.map((h) => h.stop()));
    await nc.close();
  } finally {
    await Promise.all(hosts.map((h) => h.stop()));
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

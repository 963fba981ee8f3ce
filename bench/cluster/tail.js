// @ts-check
/**
 * Where a batch's start and tail go on scenario 8's setup (a nats-server, two hosts of one
 * thread, a `RemotePool` client here): each job reports which host ran it and when, and the
 * script prints, per host, the time from `execute()` to its first job, its idle time in the
 * batch's last second and when its last job ended, with the batch's efficiency and its wall
 * time against the ideal (work / 2 + the longest job).
 *
 *   node bench/cluster/tail.js [long|mixed] [cpu|sleep] [runs=1]
 *
 * `long` is 100 jobs of 50 ms, `mixed` 2,000 jobs of 1-50 ms (seeded, as `queue-mixed`).
 * With `TAIL_LOG=1` in the hosts' environment, a host built with the claimer's trace prints
 * `H <seq> <jobs> <epoch ms>` per message it takes; those are summarised too.
 */
import { connect } from '@nats-io/transport-node';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { calibrateCpu } from '../lib/calibrate.js';
import { mixedMs } from '../lib/mixed.js';
import { QUEUE_MIXED_MS, QUEUE_MIXED_SEED } from '../lib/plan.js';
import { cpu } from '../lib/tasks.js';
import { loadCorralNats } from './corral-nats-api.js';
import { freePort, startHelper } from './processes.js';

const [kind = 'long', mode = 'cpu', runsArg = '1'] = process.argv.slice(2);
const hostScript = fileURLToPath(new URL('./tail-host.js', import.meta.url));
const now = () => performance.timeOrigin + performance.now();

/** @typedef {{ pid: number, start: number, end: number }} Run */

async function main() {
  const { RemotePool } = await loadCorralNats();
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'corral-tail-'));
  const server = await startHelper(
    'nats-server',
    '/usr/sbin/nats-server',
    ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir],
    'Server is ready',
  );
  const url = `nats://127.0.0.1:${port}`;
  /** @type {import('./processes.js').Helper[]} */
  const hosts = [];
  try {
    for (let i = 0; i < 2; i++) {
      hosts.push(
        await startHelper(`host ${i}`, process.execPath, [hostScript, url, 'tail', '1'], 'ready'),
      );
    }
    const nc = await connect({ servers: url });
    const pool = new RemotePool(nc, 'tail');
    await pool.ready();
    const { iters: iters5 } = calibrateCpu(5);
    /** @type {number[]} */
    const sizes =
      kind === 'long'
        ? new Array(100).fill(50)
        : mixedMs(2000, QUEUE_MIXED_MS[0], QUEUE_MIXED_MS[1], QUEUE_MIXED_SEED);
    /** @type {Map<number, number>} ms of work per size, measured inline for CPU */
    const cost = new Map();
    for (const ms of new Set(sizes)) {
      if (mode === 'sleep') {
        cost.set(ms, ms);
        continue;
      }
      const iters = Math.round((iters5 * ms) / 5);
      cpu(iters);
      const t0 = performance.now();
      cpu(iters);
      cost.set(ms, performance.now() - t0);
    }
    /** @param {number} ms */
    const input = (ms) => [mode, mode === 'sleep' ? ms : Math.round((iters5 * ms) / 5)];
    const workMs = sizes.reduce((a, ms) => a + (cost.get(ms) ?? 0), 0);
    const longestMs = Math.max(...sizes.map((ms) => cost.get(ms) ?? 0));
    /** @param {number[]} list */
    const batch = async (list) => {
      /** @type {Run[]} */
      const out = [];
      for await (const o of pool.execute(list.map(input), { task: 'trace' })) {
        if (!o.ok) throw o.error;
        out.push(/** @type {Run} */ (o.value));
      }
      return out;
    };
    // Warm up on the batch's own kind of jobs, so that the hosts' estimate is the batch's.
    await batch(sizes.slice(0, 64).reverse());
    for (let run = 0; run < Number(runsArg); run++) {
      const logAt = hosts.map((h) => h.log().length);
      const t0 = now();
      const runs = await batch(sizes);
      const t1 = now();
      const wallMs = t1 - t0;
      const pids = hosts.map((h) => h.pid);
      const lastEnd = Math.max(...runs.map((r) => r.end));
      const perHost = pids.map((pid, i) => {
        const mine = runs.filter((r) => r.pid === pid).sort((a, b) => a.start - b.start);
        const first = mine[0]?.start ?? NaN;
        const last = mine.at(-1)?.end ?? NaN;
        // Idle in the batch's last second (up to the last job's end anywhere).
        const from = lastEnd - 1000;
        let busy = 0;
        for (const r of mine)
          busy += Math.max(0, Math.min(r.end, lastEnd) - Math.max(r.start, from));
        const log = hosts[i]?.log().slice(logAt[i]) ?? '';
        const takes = [...log.matchAll(/^H (\d+) (\d+) ([\d.]+)$/gm)].map((m) => ({
          jobs: Number(m[2]),
          at: Number(m[3]) - t0,
        }));
        const gaps = mine.slice(1).map((r, k) => r.start - (mine[k]?.end ?? r.start));
        const ran = mine.reduce((a, r) => a + r.end - r.start, 0);
        gaps.sort((a, b) => a - b);
        return {
          pid,
          jobs: mine.length,
          ranMs: +ran.toFixed(1),
          gapsMs: +gaps.reduce((a, g) => a + g, 0).toFixed(1),
          gapMedian: +(gaps[gaps.length >> 1] ?? 0).toFixed(2),
          gapMax: +(gaps.at(-1) ?? 0).toFixed(1),
          bigGaps: mine
            .slice(1)
            .map((r, k) => [r.start - (mine[k]?.end ?? r.start), (mine[k]?.end ?? 0) - t0])
            .filter(([g]) => (g ?? 0) > 10)
            .map(([g, at]) => `${(g ?? 0).toFixed(0)}@${(at ?? 0).toFixed(0)}`)
            .join(' '),
          firstStart: +(first - t0).toFixed(1),
          lastEnd: +(last - t0).toFixed(1),
          idleLastS: +(1000 - busy).toFixed(1),
          messages: takes.length,
          firstTakes: takes
            .slice(0, 4)
            .map((t) => `${t.jobs}@${t.at.toFixed(0)}`)
            .join(' '),
          takesAround: process.env.TAKES
            ? takes.map((t) => `${t.jobs}@${t.at.toFixed(0)}`).join(' ')
            : undefined,
          lastTakes: takes
            .slice(-6)
            .map((t) => `${t.jobs}@${t.at.toFixed(0)}`)
            .join(' '),
        };
      });
      console.log(
        JSON.stringify({
          kind,
          mode,
          wallMs: Math.round(wallMs),
          efficiency: +(workMs / 2 / wallMs).toFixed(3),
          vsIdeal: +(wallMs / (workMs / 2 + longestMs)).toFixed(3),
          lastEndSpread: +Math.abs((perHost[0]?.lastEnd ?? 0) - (perHost[1]?.lastEnd ?? 0)).toFixed(
            1,
          ),
          resultsAfterLastEnd: +(t1 - lastEnd).toFixed(1),
          perHost,
        }),
      );
    }
    await pool.shutdown();
    await nc.close();
  } finally {
    for (const h of hosts) await h.stop();
    await server.stop();
  }
}

main().catch((/** @type {unknown} */ error) => {
  console.error(error);
  process.exit(1);
});

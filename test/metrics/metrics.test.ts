import { execFile } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { Pool } from 'corral';
import * as metricsEntry from 'corral/metrics';
import * as metricsIndex from '#internal/metrics/index.js';
import {
  JOB_SECONDS_BUCKETS,
  registerMetrics,
  serveMetrics,
  type MetricsServer,
} from 'corral/metrics';
import { rejection, tasks, tempDir } from '../helpers/index.js';
import {
  histogram,
  parsePage,
  samples,
  scrape,
  value,
  type Family,
  type HistogramSeries,
} from '../helpers/prometheus.js';

const run = promisify(execFile);
const pools: Pool[] = [];
let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  await Promise.all(pools.splice(0).map((p) => p.shutdown({ force: true })));
});

function newPool(threads = 2): Pool {
  const p = new Pool({ module: tasks, threads });
  pools.push(p);
  return p;
}

/** A known batch: 30 successes, 5 failures with a code, 3 without, 2 unknown tasks. */
async function batch(p: Pool): Promise<void> {
  await Promise.all(Array.from({ length: 30 }, (_, n) => p.do(n)));
  for (let i = 0; i < 5; i++)
    await rejection(p.do({ message: 'x', code: 'E_X' }, { task: 'fail' }));
  for (let i = 0; i < 3; i++) await rejection(p.do({ message: 'y' }, { task: 'fail' }));
  for (let i = 0; i < 2; i++) await rejection(p.do(1, { task: 'missing' }));
}

/** Checks a histogram series: one, cumulative buckets, `+Inf` equal to the count. */
function expectHistogram(
  families: Map<string, Family>,
  name: string,
  match: Record<string, string>,
  count: number,
): void {
  const series = histogram(families, name, match);
  expect(series, `${name} ${JSON.stringify(match)}`).toBeDefined();
  const { buckets, sum, count: total } = series as HistogramSeries;
  const bounds = JOB_SECONDS_BUCKETS.map(String);
  expect([...buckets.keys()]).toEqual([...bounds, '+Inf']);
  let last = 0;
  for (const le of bounds) {
    const n = buckets.get(le) as number;
    expect(n).toBeGreaterThanOrEqual(last);
    last = n;
  }
  expect(buckets.get('+Inf')).toBe(count);
  expect(total).toBe(count);
  expect(last).toBeLessThanOrEqual(count);
  expect(sum).toBeGreaterThan(0);
}

describe('registerMetrics + serveMetrics', () => {
  it('counters equal the outcomes of a known batch; histograms add up; gauges are set', async () => {
    const registry = new Registry();
    const p = newPool(2);
    await p.ready();
    registerMetrics(p, { registry, labels: { pool: 'a' } });
    server = await serveMetrics({ registry, port: 0 });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    await batch(p);
    const m = await scrape(server.url);
    const a = { pool: 'a', host: hostname() };
    expect(value(m, 'corral_jobs_completed_total', a)).toBe(30);
    expect(value(m, 'corral_jobs_failed_total', { ...a, code: 'E_X' })).toBe(5);
    expect(value(m, 'corral_jobs_failed_total', { ...a, code: 'none' })).toBe(3);
    expect(value(m, 'corral_jobs_failed_total', { ...a, code: 'ERR_UNKNOWN_TASK' })).toBe(2);
    expect(value(m, 'corral_jobs_retried_total', a)).toBe(0);
    expect(value(m, 'corral_thread_crashes_total', a)).toBe(0);
    expect(m.get('corral_jobs_completed_total')?.type).toBe('COUNTER');
    expect(m.get('corral_job_run_seconds')?.type).toBe('HISTOGRAM');
    // Unknown tasks never reached a thread: counted, not timed.
    expectHistogram(m, 'corral_job_run_seconds', { ...a, task: 'default' }, 30);
    expectHistogram(m, 'corral_job_run_seconds', { ...a, task: 'fail' }, 8);
    expectHistogram(m, 'corral_job_wait_seconds', { ...a, task: 'default' }, 30);
    expect(samples(m, 'corral_job_run_seconds', { task: 'missing' })).toHaveLength(0);
    expect(value(m, 'corral_threads', a)).toBe(2);
    expect(value(m, 'corral_jobs_queued', a)).toBe(0);
    expect(value(m, 'corral_jobs_running', a)).toBe(0);
    const utilization = value(m, 'corral_thread_utilization', a) as number;
    expect(utilization).toBeGreaterThanOrEqual(0);
    expect(utilization).toBeLessThanOrEqual(1);
    // Other paths are not served.
    expect((await fetch(server.url.replace('/metrics', '/'))).status).toBe(404);
  });

  it('two pools in one registry stay apart; the same labels twice are refused', async () => {
    const registry = new Registry();
    const p1 = newPool(1);
    const p2 = newPool(1);
    const off1 = registerMetrics(p1, { registry });
    registerMetrics(p2, { registry });
    expect(() => registerMetrics(p2, { registry, labels: { pool: 'pool-1' } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    );
    server = await serveMetrics({ registry, port: 0 });
    await Promise.all([p1.do(1), p1.do(2), p1.do(3)]);
    await p2.do(1);
    await rejection(p2.do({ message: 'z', code: 'E_Z' }, { task: 'fail' }));
    let m = await scrape(server.url);
    expect(value(m, 'corral_jobs_completed_total', { pool: 'pool-1' })).toBe(3);
    expect(value(m, 'corral_jobs_completed_total', { pool: 'pool-2' })).toBe(1);
    expect(samples(m, 'corral_jobs_failed_total', { pool: 'pool-1' })).toHaveLength(0);
    expect(value(m, 'corral_jobs_failed_total', { pool: 'pool-2', code: 'E_Z' })).toBe(1);
    expectHistogram(m, 'corral_job_run_seconds', { pool: 'pool-1', task: 'default' }, 3);
    expectHistogram(m, 'corral_job_run_seconds', { pool: 'pool-2', task: 'default' }, 1);
    // Taken out: its series go, the other pool's stay.
    off1();
    await p1.do(4);
    m = await scrape(server.url);
    expect(samples(m, 'corral_jobs_completed_total', { pool: 'pool-1' })).toHaveLength(0);
    expect(value(m, 'corral_jobs_completed_total', { pool: 'pool-2' })).toBe(1);
  });

  it("counts a stream's chunked inputs one by one", async () => {
    const registry = new Registry();
    const p = newPool(2);
    registerMetrics(p, { registry, labels: { pool: 's' } });
    let n = 0;
    for (let round = 0; round < 3; round++) {
      for await (const o of p.execute(Array.from({ length: 2000 }, (_, i) => i))) if (o.ok) n++;
    }
    const m = parsePage(await registry.metrics());
    expect(n).toBe(6000);
    expect(value(m, 'corral_jobs_completed_total', { pool: 's' })).toBe(6000);
    expectHistogram(m, 'corral_job_run_seconds', { pool: 's', task: 'default' }, 6000);
  });

  it('a remote-like pool (stats only) and a queue reader give the queue series', async () => {
    const registry = new Registry();
    const remote = {
      queue: 'q1',
      stats: () => ({ queued: 1, running: 2, completed: 7, failed: 3, retried: 1 }),
    };
    registerMetrics(remote, {
      registry,
      labels: { host: 'h1' },
      queueInfo: () =>
        Promise.resolve({ pending: 4, inFlight: 5, redelivered: 6, hosts: ['a', 'b'] }),
    });
    const m = parsePage(await registry.metrics());
    const q = { queue: 'q1', host: 'h1' };
    // Counted from registration: the stats at that time are the zero.
    expect(value(m, 'corral_jobs_completed_total', q)).toBe(0);
    expect(value(m, 'corral_jobs_queued', q)).toBe(1);
    expect(value(m, 'corral_jobs_running', q)).toBe(2);
    expect(value(m, 'corral_queue_pending_messages', q)).toBe(4);
    expect(value(m, 'corral_queue_in_flight_messages', q)).toBe(5);
    expect(value(m, 'corral_queue_redelivered_messages', q)).toBe(6);
    expect(value(m, 'corral_queue_hosts', q)).toBe(2);
    expect(samples(m, 'corral_jobs_completed_total', { pool: 'q1' })).toHaveLength(0);
  });

  it("corral/metrics's entry exports every value of src/metrics/index.ts, and only those", () => {
    expect(Object.keys(metricsEntry).sort()).toEqual(Object.keys(metricsIndex).sort());
    for (const name of Object.keys(metricsIndex)) {
      expect(metricsEntry[name as keyof typeof metricsEntry]).toBe(
        metricsIndex[name as keyof typeof metricsIndex],
      );
    }
  });

  it('without prom-client, corral/metrics throws ERR_PROM_CLIENT_MISSING', async () => {
    // A copy of the build where no node_modules can be found, imported by a plain Node
    // (vitest would resolve prom-client from the project).
    const dir = tempDir();
    cpSync(new URL('../../dist', import.meta.url), join(dir, 'dist'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    const entry = pathToFileURL(join(dir, 'dist/src/metrics/entry.js')).href;
    const script = `import(${JSON.stringify(entry)}).then(() => console.log('loaded'), (e) => console.log(e.code, e.message))`;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: dir });
    expect(stdout).toMatch(/^ERR_PROM_CLIENT_MISSING .*npm install prom-client/);
  });
});

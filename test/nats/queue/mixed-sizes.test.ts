/**
 * Jobs of mixed sizes: messages sized by work keep every host busy to the end of a batch
 * (no host idle for long while another still holds work), and no message holds far more
 * work than its target. Evidence: the `timed` task's run log (`<job> <pid> <start> <end>`
 * per run, epoch ms) and the job messages themselves, read off the queue's subject.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeJobs } from '#internal/nats/queue/queue-codec.js';
import { queueLayout } from '#internal/nats/queue/layout.js';
import { MAX_TARGET_MS } from '#internal/nats/queue/message-size.js';
import { useQueueCluster } from '../../helpers/queue.js';
import { mixedMs } from '../../../bench/lib/mixed.js';

const cluster = useQueueCluster();

/** `count` jobs of whole ms in [low, high], seeded (the bench's generator). */
function mixed(count: number, low: number, high: number, seed: number) {
  return mixedMs(count, low, high, seed).map((ms, n) => ({ n, ms }));
}

interface Span {
  pid: number;
  start: number;
  end: number;
}

/** The run log: each job's runs. */
function readSpans(log: string): Map<number, Span[]> {
  const runs = new Map<number, Span[]>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (line === '') continue;
    const [n = '', pid = '', start = '', end = ''] = line.split(' ');
    const list = runs.get(Number(n)) ?? [];
    list.push({ pid: Number(pid), start: Number(start), end: Number(end) });
    runs.set(Number(n), list);
  }
  return runs;
}

/**
 * Runs `inputs` on `hosts` fresh hosts of one thread; returns the run log's spans and the
 * work (ms) of each job message published, in order.
 */
async function runBatch(name: string, hosts: number, inputs: { n: number; ms: number }[]) {
  const log = join(cluster.scratch.dir, `${name}.log`);
  const { queue, pool } = await cluster.serveQueue(hosts, { log, threads: 1 });
  const messages: number[] = [];
  const watcher = cluster.nc.subscribe(queueLayout(queue).jobsSubject, {
    callback: (error, msg) => {
      if (error !== null) return;
      let work = 0;
      for (const job of decodeJobs(msg.data).jobs) work += (job.input as { ms: number }).ms;
      messages.push(work);
    },
  });
  const outcomes = [];
  for await (const o of pool.wrap(inputs, { task: 'timed' })) outcomes.push(o);
  watcher.unsubscribe();
  expect(outcomes.filter((o) => !o.ok)).toEqual([]);
  const runs = readSpans(log);
  expect(runs.size).toBe(inputs.length);
  for (const list of runs.values()) expect(list).toHaveLength(1);
  return { spans: [...runs.values()].map((list) => list[0] as Span), messages };
}

/** Each host's longest stretch without a job, from the batch's first start to its last end. */
function longestIdle(spans: readonly Span[]): Map<number, number> {
  const first = Math.min(...spans.map((s) => s.start));
  const last = Math.max(...spans.map((s) => s.end));
  const byHost = new Map<number, Span[]>();
  for (const s of spans) byHost.set(s.pid, [...(byHost.get(s.pid) ?? []), s]);
  const idle = new Map<number, number>();
  for (const [pid, list] of byHost) {
    list.sort((a, b) => a.start - b.start);
    let free = first;
    let longest = 0;
    for (const s of list) {
      longest = Math.max(longest, s.start - free);
      free = Math.max(free, s.end);
    }
    idle.set(pid, Math.max(longest, last - free));
  }
  return idle;
}

describe('jobs of mixed sizes', () => {
  it('keep every host at work until near the end of the batch (1-50 ms, 3 hosts)', async () => {
    const inputs = mixed(400, 1, 50, 20);
    const { spans, messages } = await runBatch('mixed', 3, inputs);
    const idle = longestIdle(spans);
    console.log(
      `1-50 ms on 3 hosts: ${messages.length} messages, the largest ${Math.max(...messages)} ms of work; longest idle per host ${[...idle.values()].map((ms) => Math.round(ms)).join(', ')} ms`,
    );
    expect(idle.size).toBe(3);
    // Work spread over the hosts to the end: none idle for a second (its last job's end
    // included: with single jobs near the end, the hosts finish within a job of each other).
    for (const ms of idle.values()) expect(ms).toBeLessThan(1000);
    for (const work of messages) expect(work).toBeLessThanOrEqual(4 * MAX_TARGET_MS);
  }, 120_000);

  it('pack short jobs near their target, not hundreds of ms to a message (1-3 ms, 2 hosts)', async () => {
    const inputs = mixed(3000, 1, 3, 7);
    const { spans, messages } = await runBatch('short', 2, inputs);
    const idle = longestIdle(spans);
    console.log(
      `1-3 ms on 2 hosts: ${messages.length} messages, the largest ${Math.max(...messages)} ms of work; longest idle per host ${[...idle.values()].map((ms) => Math.round(ms)).join(', ')} ms`,
    );
    // Near the target: no message over 2x the largest target (the estimate counts some
    // messaging too, so messages come out below their target more often than above) ...
    for (const work of messages) expect(work).toBeLessThanOrEqual(2 * MAX_TARGET_MS);
    // ... and packed all the same (not one job a message).
    expect(messages.length).toBeLessThan(inputs.length / 2);
    for (const ms of idle.values()) expect(ms).toBeLessThan(1000);
  }, 120_000);
});

describe('messages sized by the thread slots serving the queue', () => {
  it('pack 5 ms jobs into messages of up to the largest target on 2 hosts, single jobs at the end', async () => {
    const log = join(cluster.scratch.dir, 'slots.log');
    const { queue, pool } = await cluster.serveQueue(2, { log, threads: 1 });
    // A first batch brings the hosts' estimate of a job (and the client reads the hosts).
    const warm = Array.from({ length: 24 }, (_, n) => ({ n: 10_000 + n, ms: 5 }));
    for await (const o of pool.execute(warm, { task: 'timed' })) expect(o.ok).toBe(true);
    const messages: number[] = [];
    const watcher = cluster.nc.subscribe(queueLayout(queue).jobsSubject, {
      callback: (error, msg) => {
        if (error === null) messages.push(decodeJobs(msg.data).jobs.length);
      },
    });
    const inputs = Array.from({ length: 400 }, (_, n) => ({ n, ms: 5 }));
    let done = 0;
    for await (const o of pool.execute(inputs, { task: 'timed' })) if (o.ok) done++;
    watcher.unsubscribe();
    console.log(`400 x 5 ms on 2 hosts: ${messages.length} messages of ${messages.join(' ')} jobs`);
    expect(done).toBe(inputs.length);
    // The spread decides how soon messages shrink, whatever the hosts' estimate of a job (on
    // a loaded machine it runs long): a message holds about 1/spread of the jobs left, so
    // with the slots unknown (64) the last 96 or so went one a message, in about 190
    // messages; on 2 slots (8), the last 12 or so.
    const singles = messages.filter((jobs) => jobs === 1).length;
    expect(singles).toBeLessThanOrEqual(24);
    expect(messages.length).toBeLessThan(150);
    for (const jobs of messages) expect(jobs * 5).toBeLessThanOrEqual(2 * MAX_TARGET_MS);
    // The batch's end still goes one job a message.
    expect(messages.at(-1)).toBe(1);
  }, 120_000);
});

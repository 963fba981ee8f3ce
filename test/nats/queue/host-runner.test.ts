/**
 * How a host hands a message's jobs to its local pool, on their own (no server, no threads):
 * a fake pool whose jobs the test finishes one by one, and a started-mark writer the test
 * answers. Uses the built internals.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { runBatch, type Batch, type BatchSpec } from '#internal/pool/batch.js';
import { HeldMessage, JobRunner } from '#internal/nats/queue/host-runner.js';
import type { WireJob } from '#internal/nats/queue/queue-codec.js';
import type { ResultSink } from '#internal/nats/queue/result-sink.js';
import { MessageTimes, RunClock } from '#internal/nats/queue/run-clock.js';
import { fixture } from '../../helpers/index.js';

/** A pool of one slot: jobs run in the order handed over, each until the test finishes it. */
class FakePool {
  /** Jobs handed over and not finished, oldest (running) first. */
  readonly queue: { finish: () => void }[] = [];

  [runBatch](
    inputs: readonly unknown[],
    _spec: BatchSpec,
    listener: (index: number, ok: boolean, value: unknown) => void,
  ): Batch {
    let open = inputs.length;
    inputs.forEach((input, index) => {
      this.queue.push({
        finish: () => {
          open--;
          listener(index, true, input);
        },
      });
    });
    return {
      get open() {
        return open;
      },
      cancel: () => undefined,
    } as unknown as Batch;
  }

  /** The running job finishes. */
  finish(): void {
    this.queue.shift()?.finish();
  }
}

const job = (id: number): WireJob => ({
  id,
  task: 'cpu',
  timeout: 0,
  maxTries: 1,
  key: undefined,
  input: id,
});

/** Lets pending promises and `setImmediate` callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('JobRunner', () => {
  it('queues the next short job on the pool while the started mark of the ones after it is written', async () => {
    // The host's jobs cost 6 ms each (its pool's busy time): jobs of about 5 ms on a busy machine.
    let reading = { busyTime: 0, jobs: 0 };
    const clock = new RunClock(1, () => reading);
    reading = { busyTime: 120, jobs: 20 };
    const times = new MessageTimes();
    times.finished();
    clock.observe(times);
    expect(clock.estimate).toBe(6);

    const pool = new FakePool();
    /** Jobs on the pool, the running one included, each time a mark was asked for. */
    const onPoolAtMark: number[] = [];
    const answers: ((ours: boolean) => void)[] = [];
    const runner = new JobRunner({
      pool: pool as unknown as Pool,
      sink: { add: () => undefined } as unknown as ResultSink,
      clock,
      slots: 1,
      mark: () => {
        onPoolAtMark.push(pool.queue.length);
        return new Promise<boolean>((resolve) => answers.push(resolve));
      },
      takenOver: () => undefined,
      onError: () => undefined,
    });
    const jobs = Array.from({ length: 8 }, (_, i) => job(i));
    const held = new HeldMessage(
      {} as JsMsg,
      'client',
      jobs.length,
      () => undefined,
      () => undefined,
    );
    runner.run(held, jobs);
    let finished = 0;
    while (finished < jobs.length) {
      await settle();
      // Every mark asked for is stored at once; the running job then finishes.
      while (answers.length > 0) answers.shift()?.(true);
      await settle();
      if (pool.queue.length === 0) throw new Error(`the pool ran dry after ${finished} jobs`);
      pool.finish();
      finished++;
    }
    // The first mark comes before anything runs; every later one while the pool's thread has
    // a job marked earlier to run, so that it does not wait for the mark's round trip.
    expect(onPoolAtMark[0]).toBe(0);
    expect(onPoolAtMark.length).toBeGreaterThan(1);
    for (const onPool of onPoolAtMark.slice(1)) expect(onPool).toBeGreaterThanOrEqual(1);
    // And a mark covers more than one job.
    expect(onPoolAtMark.length).toBeLessThan(jobs.length);
    // Every job charged one try, by the marks, before it went to the pool.
    expect(held.charged).toEqual(jobs.map(() => 1));
  });
});

/**
 * Runs `count` jobs through a runner of one slot whose clock estimates `estimate` ms per job,
 * marks answered at once and the running job finished after each; returns the jobs each mark
 * covered and the most jobs the pool held (the running one included).
 */
async function handOvers(estimate: number, count: number) {
  let reading = { busyTime: 0, jobs: 0 };
  const clock = new RunClock(1, () => reading);
  reading = { busyTime: estimate * 20, jobs: 20 };
  const times = new MessageTimes();
  times.finished();
  clock.observe(times);
  expect(clock.estimate).toBeCloseTo(estimate, 9);

  const pool = new FakePool();
  const answers: ((ours: boolean) => void)[] = [];
  const held = new HeldMessage(
    {} as JsMsg,
    'client',
    count,
    () => undefined,
    () => undefined,
  );
  /** Jobs marked so far (their tries charged), at each mark. */
  const marked: number[] = [];
  const runner = new JobRunner({
    pool: pool as unknown as Pool,
    sink: { add: () => undefined } as unknown as ResultSink,
    clock,
    slots: 1,
    mark: (h) => {
      marked.push(h.charged.filter((c) => c > 0).length);
      return new Promise<boolean>((resolve) => answers.push(resolve));
    },
    takenOver: () => undefined,
    onError: () => undefined,
  });
  runner.run(
    held,
    Array.from({ length: count }, (_, i) => job(i)),
  );
  let most = 0;
  for (let finished = 0; finished < count; finished++) {
    await settle();
    while (answers.length > 0) answers.shift()?.(true);
    await settle();
    most = Math.max(most, pool.queue.length);
    if (pool.queue.length === 0) throw new Error(`the pool ran dry after ${finished} jobs`);
    pool.finish();
  }
  const perMark = marked.map((m, i) => m - (marked[i - 1] ?? 0));
  return { perMark, most, lookahead: runner.lookahead };
}

describe('JobRunner hand-overs', () => {
  it('hands queued 5 ms jobs over three at a time, never holding more than the lookahead', async () => {
    const { perMark, most, lookahead } = await handOvers(5, 30);
    // 15 ms of lookahead: three jobs queued behind the running one, at most.
    expect(lookahead).toBe(3);
    expect(most).toBeLessThanOrEqual(1 + lookahead);
    // The first mark covers one job for the thread and the lookahead; after that, one mark
    // once nothing is queued behind the running job, for three jobs.
    expect(perMark[0]).toBe(4);
    for (const n of perMark.slice(1, -1)) expect(n).toBe(3);
    expect(perMark.length / 30).toBeLessThan(0.4);
  });

  it('keeps two 2 ms jobs queued while the next five are marked', async () => {
    const { perMark, most, lookahead } = await handOvers(2, 60);
    expect(lookahead).toBe(7);
    expect(most).toBeLessThanOrEqual(1 + lookahead);
    expect(perMark[0]).toBe(8);
    for (const n of perMark.slice(1, -1)) expect(n).toBe(5);
    expect(perMark.length / 60).toBeLessThan(0.25);
  });

  it('hands long jobs over one per free slot, as they settle', async () => {
    const { perMark, most, lookahead } = await handOvers(20, 6);
    expect(lookahead).toBe(0);
    expect(most).toBe(1);
    expect(perMark).toEqual([1, 1, 1, 1, 1, 1]);
  });
});

describe('JobRunner on a real pool', () => {
  it("aborts a message's jobs on the pool once its client gave up every one still open", async () => {
    await using pool = new Pool({ module: fixture('tasks.mjs'), threads: 1 });
    const reported: { id: number; status: number; value: unknown }[] = [];
    const runner = new JobRunner({
      pool,
      sink: {
        add: (_client: string, owner: HeldMessage, result: (typeof reported)[number]) => {
          reported.push(result);
          owner.stored();
        },
      } as unknown as ResultSink,
      clock: new RunClock(1),
      slots: 1,
      mark: () => Promise.resolve(true),
      takenOver: () => undefined,
      onError: () => undefined,
    });
    const sleeper = (id: number): WireJob => ({ ...job(id), task: 'sleep', input: 10_000 });
    const held = new HeldMessage(
      {} as JsMsg,
      'client',
      2,
      () => undefined,
      () => undefined,
    );
    runner.run(held, [sleeper(1), sleeper(2)]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // One of two given up: the message's jobs go on.
    runner.cancel('client', [1]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reported).toEqual([]);
    const started = Date.now();
    runner.cancel('client', [2]);
    await expect.poll(() => reported.length).toBe(2);
    expect(Date.now() - started).toBeLessThan(5000);
    const byId = new Map(reported.map((r) => [r.id, r.value]));
    // The one running was aborted on the pool; the one waiting for room never started.
    expect(byId.get(1)).toMatchObject({ name: 'AbortError', props: { code: 'ABORT_ERR' } });
    expect(byId.get(2)).toMatchObject({ message: 'the client gave the job up' });
    expect(held.charged).toEqual([1, 0]);
    // Its thread stopped the task (ctx.signal) and takes the next job.
    expect(await pool.do(1)).toBe(2);
  });
});

describe('RunClock with a pool', () => {
  it("estimates a job by the pool's busy time, not by a message's span", () => {
    // 256 jobs of 0.004 ms each, but the message spent 20 ms between hand-over and its last
    // result (queued behind another message, its mark's round trip).
    let reading = { busyTime: 0, jobs: 0 };
    const clock = new RunClock(1, () => reading);
    const times = new MessageTimes();
    times.handed(0);
    for (let j = 0; j < 256; j++) times.finished(20);
    reading = { busyTime: 256 * 0.004, jobs: 256 };
    clock.observe(times);
    expect(clock.estimate).toBeCloseTo(0.004, 6);
  });

  it('keeps the span-based estimate until the busy time covers a few jobs', () => {
    // The first message of a batch of 1-3 ms jobs holds one job of 1 ms: packing by it would
    // make messages of twice their target.
    let reading = { busyTime: 0, jobs: 0 };
    const clock = new RunClock(1, () => reading);
    const times = new MessageTimes();
    times.handed(0);
    times.finished(3);
    reading = { busyTime: 1, jobs: 1 };
    clock.observe(times);
    expect(clock.estimate).toBe(3);
  });

  it('follows a switch from tiny jobs to slow ones as fast as the span samples did', () => {
    // 16 messages of 256 jobs of 0.003 ms, then 3 of 16 jobs of 5 ms (a client's next batch).
    let reading = { busyTime: 0, jobs: 0 };
    const clock = new RunClock(1, () => reading);
    const message = (jobs: number, ms: number) => {
      const times = new MessageTimes();
      for (let j = 0; j < jobs; j++) times.finished();
      reading = { busyTime: reading.busyTime + jobs * ms, jobs: reading.jobs + jobs };
      clock.observe(times);
    };
    for (let m = 0; m < 16; m++) message(256, 0.003);
    expect(clock.estimate).toBeCloseTo(0.003, 6);
    for (let m = 0; m < 3; m++) message(16, 5);
    // Each message's interval weighs the same: (13 x 0.003 + 3 x 5) / 16 ms. Weighed by
    // jobs, the 3,328 tiny jobs would keep it at 0.07 ms, and the next 5 ms jobs would
    // travel 256 to a message.
    expect(clock.estimate).toBeCloseTo((13 * 0.003 + 3 * 5) / 16, 6);
  });
});

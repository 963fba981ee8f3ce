/**
 * The worker side's runtime without a thread: a `WorkerRuntime` handed one end of a
 * `MessageChannel` and a `SharedArrayBuffer` of its own, the test playing the pool on the
 * other end. Its pump (order, concurrency, cancels, steals, broadcasts, the crash counters)
 * and its flush (batches, what cannot be cloned, transfers, a dying thread's chunk parts).
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import {
  JobFlag,
  ResultStatus,
  pushJob,
  readResults,
  type ChunkAnswer,
} from '#internal/protocol/codec.js';
import {
  CANCELS,
  FINISHED,
  PROGRESS_BYTES,
  STARTED,
  type FromWorker,
  type ToWorker,
} from '#internal/protocol/messages.js';
import { STRIDE } from '#internal/protocol/key-counters.js';
import type { WireError } from '#internal/protocol/wire-error.js';
import { transfer } from 'corral/worker';
import { WorkerRuntime } from '#workers/worker-runtime.js';
import type { JobContext } from '#workers/context.js';
import type { TaskFn } from '#workers/modules.js';
import { until } from '../helpers/index.js';

/** One result of a `results` batch. */
interface Result {
  id: number;
  status: ResultStatus;
  value: unknown;
}

/** The pool's end of a runtime's channel. */
class PoolEnd {
  readonly progress = new Int32Array(new SharedArrayBuffer(PROGRESS_BYTES));
  readonly keyCounters = new Int32Array(new SharedArrayBuffer(4 * STRIDE * 4));
  readonly runtime: WorkerRuntime;
  /** Every message the runtime posted, in order. */
  readonly messages: FromWorker[] = [];
  readonly #port: MessagePort;
  #nextId = 1;

  constructor(tasks: Record<string, TaskFn>, concurrency = 1, cleanup?: () => Promise<void>) {
    const { port1, port2 } = new MessageChannel();
    this.#port = port2;
    port2.on('message', (message: FromWorker) => this.messages.push(message));
    this.runtime = new WorkerRuntime({
      port: port1,
      progress: this.progress,
      concurrency,
      workerData: { from: 'test' },
      keyCounters: this.keyCounters,
      keySlots: [['k', 1]],
    });
    this.runtime.start({ names: Object.keys(tasks), fns: Object.values(tasks), cleanup });
    open.push(port1, port2);
  }

  /** Sends jobs of task index `task` in one `run` message; returns their ids. */
  run(task: number, inputs: unknown[], flags = 0): number[] {
    const batch: unknown[] = [];
    const ids = inputs.map((input) => {
      const id = this.#nextId++;
      pushJob(batch, id, task, input, 1, flags);
      return id;
    });
    this.send({ type: 'run', batch });
    return ids;
  }

  /** Posts a cancel and counts it, as the pool does. */
  cancel(id: number): void {
    this.send({ type: 'cancel', id });
    Atomics.add(this.progress, CANCELS, 1);
  }

  send(message: ToWorker): void {
    this.#port.postMessage(message);
  }

  /** Every result received so far, in order, over all `results` messages. */
  results(): Result[] {
    const out: Result[] = [];
    for (const m of this.messages) {
      if (m.type !== 'results') continue;
      readResults(m.batch, (id, status, value) => out.push({ id, status, value }));
    }
    return out;
  }

  /** The result of job `id`, once it arrived. */
  async result(id: number): Promise<Result> {
    await until(() => this.results().some((r) => r.id === id));
    return this.results().find((r) => r.id === id) as Result;
  }

  /** The messages of one type received so far. */
  of<T extends FromWorker['type']>(type: T): Extract<FromWorker, { type: T }>[] {
    return this.messages.filter((m) => m.type === type) as Extract<FromWorker, { type: T }>[];
  }
}

const open: MessagePort[] = [];
afterEach(() => {
  for (const port of open.splice(0)) port.close();
});

/** A promise and its resolve, for tasks the test lets finish. */
function gate<T = unknown>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const double: TaskFn = (n) => (n as number) * 2;

describe('WorkerRuntime: the pump', () => {
  it('says it is ready with the task names, then answers a run batch in order', async () => {
    const pool = new PoolEnd({ double, other: double });
    await until(() => pool.messages.length > 0);
    expect(pool.messages).toEqual([{ type: 'ready', tasks: ['double', 'other'] }]);
    const ids = pool.run(0, [1, 2, 3]);
    await pool.result(ids[2] as number);
    expect(pool.results()).toEqual(
      ids.map((id, i) => ({ id, status: ResultStatus.Ok, value: (i + 1) * 2 })),
    );
    // Three jobs received, started and finished: the crash counters say so.
    expect(Atomics.load(pool.progress, STARTED)).toBe(3);
    expect(Atomics.load(pool.progress, FINISHED)).toBe(3);
  });

  it('answers a job that throws with its error as wire data, code kept', async () => {
    const pool = new PoolEnd({
      fails: () => {
        throw Object.assign(new TypeError('bad input'), { code: 'E_BAD' });
      },
    });
    const [id] = pool.run(0, [1]);
    const result = await pool.result(id as number);
    expect(result.status).toBe(ResultStatus.Error);
    const wire = result.value as WireError;
    expect([wire.name, wire.message, wire.props.code]).toEqual(['TypeError', 'bad input', 'E_BAD']);
  });

  it('runs at most `concurrency` jobs at once; FINISHED moves only once none before is running', async () => {
    const gates = [gate(), gate(), gate()];
    const started: number[] = [];
    const pool = new PoolEnd(
      {
        wait: (i) => {
          started.push(i as number);
          return gates[i as number]?.promise;
        },
      },
      2,
    );
    const ids = pool.run(0, [0, 1, 2]);
    await until(() => started.length === 2);
    // The pump starts what it may in one go: a third job would have started with these.
    expect(started).toEqual([0, 1]);
    gates[1]?.resolve('one');
    await until(() => started.length === 3);
    expect(Atomics.load(pool.progress, STARTED)).toBe(3);
    // Job 1 (seq 1) still runs: nothing counts as finished yet.
    expect(Atomics.load(pool.progress, FINISHED)).toBe(0);
    gates[0]?.resolve('zero');
    gates[2]?.resolve('two');
    await pool.result(ids[2] as number);
    await pool.result(ids[0] as number);
    expect(Atomics.load(pool.progress, FINISHED)).toBe(3);
    expect(pool.results().map((r) => r.value)).toEqual(['one', 'zero', 'two']);
  });

  it('drops a cancelled job that has not started, and aborts the signal of one that runs', async () => {
    const pool = new PoolEnd({
      wait: (_input, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            reject(ctx.signal.reason as Error);
          });
        }),
    });
    const [running, queued] = pool.run(0, [1, 2]) as [number, number];
    await until(() => Atomics.load(pool.progress, STARTED) === 1);
    pool.cancel(queued);
    expect(await pool.result(queued)).toEqual({
      id: queued,
      status: ResultStatus.Dropped,
      value: undefined,
    });
    pool.cancel(running);
    const aborted = await pool.result(running);
    expect(aborted.status).toBe(ResultStatus.Error);
    expect((aborted.value as WireError).props.code).toBe('ABORT_ERR');
    // The dropped job never started.
    expect(Atomics.load(pool.progress, STARTED)).toBe(1);
  });

  it('never starts a job whose cancel was counted before the thread took it', async () => {
    const ran: unknown[] = [];
    const pool = new PoolEnd({ task: (i) => ran.push(i) });
    const [first, second] = pool.run(0, [0, 1]) as [number, number];
    // Posted and counted before the runtime reads its port: it finds the cancel when it
    // claims the job (STARTED, then CANCELS), not after running it.
    pool.cancel(first);
    await pool.result(second);
    expect(ran).toEqual([1]);
    expect((await pool.result(first)).status).toBe(ResultStatus.Dropped);
  });

  it('gives back the newest unstarted jobs on a steal; the rest run', async () => {
    const first = gate();
    const pool = new PoolEnd({ task: (i) => (i === 0 ? first.promise : i) });
    const ids = pool.run(0, [0, 1, 2, 3]) as [number, number, number, number];
    await until(() => Atomics.load(pool.progress, STARTED) === 1);
    pool.send({ type: 'steal', count: 2 });
    await pool.result(ids[2]);
    expect(pool.results()).toEqual([
      { id: ids[3], status: ResultStatus.Dropped, value: undefined },
      { id: ids[2], status: ResultStatus.Dropped, value: undefined },
    ]);
    first.resolve(0);
    await pool.result(ids[1]);
    expect(pool.results().slice(2)).toEqual([
      { id: ids[0], status: ResultStatus.Ok, value: 0 },
      { id: ids[1], status: ResultStatus.Ok, value: 1 },
    ]);
  });

  it('a broadcast runs in its place: jobs received after it wait until it settles', async () => {
    const setting = gate();
    const order: string[] = [];
    const pool = new PoolEnd({
      set: async (value) => {
        order.push(`set ${String(value)}`);
        await setting.promise;
      },
      job: (i) => order.push(`job ${String(i)}`),
    });
    pool.run(1, [0]);
    pool.send({ type: 'broadcast', id: 7, task: 0, input: 'x' });
    const [after] = pool.run(1, [1]) as [number];
    await until(() => pool.of('broadcast-started').length === 1);
    // Had job 1 not waited, the pump would have started it right after the broadcast.
    expect(order).toEqual(['job 0', 'set x']);
    setting.resolve(undefined);
    await pool.result(after);
    expect(order).toEqual(['job 0', 'set x', 'job 1']);
    expect(pool.of('broadcast-result')).toEqual([
      { type: 'broadcast-result', id: 7, ok: true, value: undefined },
    ]);
  });

  it('posts `started` for a timed job and progress only for a job whose caller listens', async () => {
    const pool = new PoolEnd({
      report: (i, ctx: JobContext) => {
        ctx.progress(`half of ${String(i)}`);
        return i;
      },
    });
    const [timed] = pool.run(0, [1], JobFlag.Timed) as [number];
    const [listened] = pool.run(0, [2], JobFlag.Progress) as [number];
    await pool.result(listened);
    expect(pool.of('started')).toEqual([{ type: 'started', id: timed }]);
    expect(pool.of('progress')).toEqual([{ type: 'progress', id: listened, value: 'half of 2' }]);
  });

  it('on close, runs cleanup after the broadcasts held, answers `closed` and closes its port', async () => {
    const order: string[] = [];
    const slow = gate();
    const pool = new PoolEnd(
      {
        set: async () => {
          await slow.promise;
          order.push('broadcast');
        },
      },
      1,
      () => {
        order.push('cleanup');
        return Promise.reject(new Error('cleanup failed'));
      },
    );
    pool.send({ type: 'broadcast', id: 1, task: 0, input: undefined });
    await until(() => pool.of('broadcast-started').length === 1);
    pool.send({ type: 'close' });
    slow.resolve(undefined);
    await until(() => pool.of('closed').length === 1);
    expect(order).toEqual(['broadcast', 'cleanup']);
    const [closed] = pool.of('closed');
    expect(closed?.error?.message).toBe('cleanup failed');
    expect(closed?.stdio).toBeTypeOf('number');
  });

  it("serves the thread's leases: a request goes to the pool, its answer makes the lease", async () => {
    const pool = new PoolEnd({ double });
    const leases = pool.runtime.leases;
    const lease = leases.acquire('k');
    await until(() => pool.of('acquire').length === 1);
    const [request] = pool.of('acquire');
    expect(request).toMatchObject({ type: 'acquire', key: 'k' });
    pool.send({ type: 'lease', req: request?.req as number, id: 41 });
    const held = await lease;
    expect([held.id, held.key]).toEqual([41, 'k']);
    held.release();
    await until(() => pool.of('release').length === 1);
    expect(pool.of('release')).toEqual([{ type: 'release', id: 41 }]);
    // Counters are read from the shared memory, at the slot the boot data named.
    Atomics.store(pool.keyCounters, 1 * STRIDE, 3);
    Atomics.store(pool.keyCounters, 1 * STRIDE + 1, 2);
    expect(leases.counts('k')).toEqual({ target: 3, active: 2 });
    expect(leases.counts('unknown')).toBeUndefined();
  });
});

describe('WorkerRuntime: chunks', () => {
  const echo: TaskFn = (input) => (input === 'fn' ? () => 1 : input);

  it("runs a chunk's inputs each under its own sequence number and answers them in one result", async () => {
    const pool = new PoolEnd({ echo });
    const [id] = pool.run(0, [['a', 'b', 'c']], JobFlag.Chunk) as [number];
    const result = await pool.result(id);
    expect(result).toEqual({
      id,
      status: ResultStatus.Chunk,
      value: [ResultStatus.Ok, 'a', ResultStatus.Ok, 'b', ResultStatus.Ok, 'c'],
    });
    expect(Atomics.load(pool.progress, STARTED)).toBe(3);
    expect(Atomics.load(pool.progress, FINISHED)).toBe(3);
    // The next job's sequence number follows the chunk's inputs.
    pool.run(0, ['d']);
    await until(() => Atomics.load(pool.progress, FINISHED) === 4);
  });

  it('a thread about to die sends what its running chunk finished, as a Part', async () => {
    const never = gate();
    const pool = new PoolEnd({ task: (input) => (input === 'wait' ? never.promise : input) });
    const [id] = pool.run(0, [['a', 'wait', 'c']], JobFlag.Chunk) as [number];
    await until(() => Atomics.load(pool.progress, STARTED) === 2);
    pool.runtime.sendFinished();
    const result = await pool.result(id);
    expect(result).toEqual({ id, status: ResultStatus.Part, value: [ResultStatus.Ok, 'a'] });
  });
});

describe('WorkerRuntime: the flush', () => {
  const echo: TaskFn = (input) => (input === 'fn' ? () => 1 : input);

  it('a result that cannot be cloned fails alone: the others of its batch arrive', async () => {
    const pool = new PoolEnd({ echo });
    const ids = pool.run(0, [1, 'fn', 3]) as [number, number, number];
    await pool.result(ids[2]);
    const results = pool.results();
    expect(results.map((r) => r.status)).toEqual([
      ResultStatus.Ok,
      ResultStatus.Error,
      ResultStatus.Ok,
    ]);
    expect([results[0]?.value, results[2]?.value]).toEqual([1, 3]);
    expect((results[1]?.value as WireError).kind).toBe('data-clone');
  });

  it('in a chunk, only the inputs whose values cannot be cloned fail', async () => {
    const pool = new PoolEnd({ echo });
    const [id] = pool.run(0, [[1, 'fn', 3]], JobFlag.Chunk) as [number];
    const { status, value } = await pool.result(id);
    expect(status).toBe(ResultStatus.Chunk);
    const answer = value as ChunkAnswer;
    expect([answer[0], answer[1], answer[2], answer[4], answer[5]]).toEqual([
      ResultStatus.Ok,
      1,
      ResultStatus.Error,
      ResultStatus.Ok,
      3,
    ]);
    expect((answer[3] as WireError).kind).toBe('data-clone');
  });

  it('moves what a result transfers instead of copying it', async () => {
    let sent: ArrayBuffer | undefined;
    const pool = new PoolEnd({
      bytes: () => {
        sent = new Uint8Array([1, 2, 3]).buffer;
        return transfer(new Uint8Array(sent), [sent]);
      },
    });
    const [id] = pool.run(0, [undefined]) as [number];
    const { value } = await pool.result(id);
    expect([...(value as Uint8Array)]).toEqual([1, 2, 3]);
    expect(sent?.byteLength).toBe(0); // detached: moved, not copied
  });

  it('reports the busy time of the jobs in each batch', async () => {
    const pool = new PoolEnd({
      spin: () => {
        const end = performance.now() + 5;
        while (performance.now() < end);
      },
    });
    const [id] = pool.run(0, [undefined]) as [number];
    await pool.result(id);
    const busy = pool.of('results').reduce((sum, m) => sum + m.busy, 0);
    expect(busy).toBeGreaterThanOrEqual(5);
  });
});

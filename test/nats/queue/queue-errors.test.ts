/**
 * What goes wrong, typed: payloads over the server's limit, unknown tasks, task errors,
 * values that cannot travel, a module that cannot load, jobs with no host and a timeout or
 * a signal, a connection that closes. And what must survive the trip: structured-clone
 * values, and corral's own error classes.
 */
import { describe, expect, it } from 'vitest';
import { AbortError, DataCloneError, JobTimeoutError, UnknownTaskError } from 'corral';
import {
  PayloadTooLargeError,
  queueInfo,
  RemotePool,
  QueueConnectionClosedError,
  QueuePublishError,
} from 'corral/nats';
import { DiscardPolicy, jetstreamManager } from '@nats-io/jetstream';
import {
  BROKEN,
  codeOf,
  collect,
  remotePool,
  uniqueQueue,
  useQueueCluster,
} from '../../helpers/queue.js';

const cluster = useQueueCluster({ serve: { hosts: 1 } });
const { queue } = cluster;

const MiB = 1024 * 1024;

describe('values crossing the queue', () => {
  it('keep structured-clone semantics', async () => {
    const value = {
      map: new Map<unknown, unknown>([[1n, new Date(86_400_000)]]),
      set: new Set(['a', 'b']),
      bytes: new Uint8Array([1, 2, 3]),
      floats: new Float64Array([0.5, -0]),
      big: 2n ** 70n,
      regexp: /x+/gi,
      nested: { undef: undefined, nan: NaN },
    };
    expect(await cluster.pool.do(value, { task: 'echo' })).toEqual(value);
  });

  it('task errors keep their name, message and code', async () => {
    const error = await cluster.pool
      .do({ message: 'boom', code: 'E_BOOM' }, { task: 'fail' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'RangeError', message: 'boom', code: 'E_BOOM' });
  });

  it('an unknown task is ERR_UNKNOWN_TASK from the host', async () => {
    const error = await cluster.pool.do(1, { task: 'nope' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownTaskError);
    expect(codeOf(error)).toBe('ERR_UNKNOWN_TASK');
    expect((error as Error).message).toMatch(/no task named 'nope' \(tasks: .*echo/);
  });

  it('an input over the server max_payload fails that job alone, naming its size and the limit', async () => {
    const limit = (cluster.nc.info?.max_payload ?? 0) - 512;
    const big = new Uint8Array(2 * MiB);
    const error = await cluster.pool.do(big, { task: 'echo' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ code: 'ERR_PAYLOAD_TOO_LARGE', what: 'input', limit });
    expect((error as PayloadTooLargeError).size).toBeGreaterThan(2 * MiB);
    expect((error as Error).message).toContain(`${(error as PayloadTooLargeError).size} bytes`);
    expect((error as Error).message).toContain(`${limit} bytes`);

    const outcomes = await collect(
      cluster.pool.execute([1, big, 2], { task: 'echo', ordered: true }),
    );
    expect(outcomes.map((o) => (o.ok ? o.value : codeOf(o.error)))).toEqual([
      1,
      'ERR_PAYLOAD_TOO_LARGE',
      2,
    ]);
  });

  it('a result over the limit fails that job with ERR_PAYLOAD_TOO_LARGE; the run goes on', async () => {
    const outcomes = await collect(
      cluster.pool.execute([10, 2 * MiB, 20], { task: 'bytes', ordered: true }),
    );
    const [small, large, other] = outcomes;
    expect(small?.ok && small.value).toEqual(new Uint8Array(10).fill(1));
    expect(large?.ok).toBe(false);
    if (large?.ok === false) {
      expect(large.error).toBeInstanceOf(PayloadTooLargeError);
      expect(large.error).toMatchObject({ code: 'ERR_PAYLOAD_TOO_LARGE', what: 'result' });
    }
    expect(other?.ok && other.value).toEqual(new Uint8Array(20).fill(1));
  });

  it('an input that cannot be serialised is ERR_DATA_CLONE', async () => {
    const error = await cluster.pool.do({ f: () => 1 }, { task: 'echo' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataCloneError);
    expect(codeOf(error)).toBe('ERR_DATA_CLONE');
  });

  it('options a queue cannot honour are refused by name', async () => {
    await expect(cluster.pool.do(1, { transfer: [] } as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringContaining("'transfer'") as unknown,
    });
    expect(() => new RemotePool(cluster.nc, 'not a name')).toThrow(/option 'queue'/);
  });
});

describe('with no host serving', () => {
  it('jobs wait, and honour their timeout (time queued counts) and signal', async () => {
    const empty = await remotePool(cluster.nc, uniqueQueue('empty'));
    const timedOut = await empty.do(1, { timeout: 300 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(JobTimeoutError);
    expect(codeOf(timedOut)).toBe('ERR_JOB_TIMEOUT');

    // Aborted once it waits in the queue (the timed-out job's message is gone first).
    const pending = async (): Promise<number> => (await queueInfo(cluster.nc, empty.queue)).pending;
    await expect.poll(pending).toBe(0);
    const controller = new AbortController();
    const waiting = empty.do(1, { signal: controller.signal }).catch((e: unknown) => e);
    await expect.poll(pending).toBe(1);
    controller.abort('changed my mind');
    const aborted = await waiting;
    expect(aborted).toBeInstanceOf(AbortError);
    expect(aborted).toMatchObject({ code: 'ABORT_ERR', cause: 'changed my mind' });

    const outcomes = await collect(empty.wrap([1, 2, 3], { timeout: 300 }));
    expect(outcomes.map((o) => !o.ok && codeOf(o.error))).toEqual(Array(3).fill('ERR_JOB_TIMEOUT'));
    // Given up before any host took them, they are gone from the queue too.
    await expect.poll(pending).toBe(0);
    await empty.shutdown();
  });

  it('a job message JetStream will not store (its stream is full) rejects ERR_QUEUE_PUBLISH with the cause', async () => {
    const full = await remotePool(cluster.nc, uniqueQueue('full'));
    const jsm = await jetstreamManager(cluster.nc);
    const stream = `CORRAL_QUEUE_${full.queue}`;
    const { config } = await jsm.streams.info(stream);
    await jsm.streams.update(stream, { ...config, max_msgs: 1, discard: DiscardPolicy.New });
    const controller = new AbortController();
    const first = full.do(1, { signal: controller.signal }).catch((e: unknown) => e);
    await expect.poll(async () => (await queueInfo(cluster.nc, full.queue)).pending).toBe(1);
    const refused = await full.do(2).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QueuePublishError);
    expect(refused).toMatchObject({ code: 'ERR_QUEUE_PUBLISH' });
    expect((refused as Error).message).toContain(full.queue);
    expect(String((refused as Error).cause)).toMatch(/maximum messages/i);
    controller.abort();
    expect(codeOf(await first)).toBe('ABORT_ERR');
    await full.shutdown();
  });

  it('a host whose module fails to load exits 2 with the error and takes no jobs', async () => {
    const name = uniqueQueue('broken');
    const waiting = await remotePool(cluster.nc, name);
    const job = waiting.do(21);
    await expect.poll(async () => (await queueInfo(cluster.nc, name)).pending).toBe(1);

    const broken = cluster.startHost(name, { module: BROKEN });
    expect(await broken.exited).toEqual({ code: 2, signal: null });
    expect(broken.stderr()).toMatch(
      /the task module failed to load.*\(ERR_MODULE_LOAD\).*broken on purpose/,
    );
    const info = await queueInfo(cluster.nc, name);
    expect(info).toMatchObject({ pending: 1, inFlight: 0, hosts: [] });

    // A working host then runs it.
    cluster.startHost(name);
    expect(await job).toBe(42);
    await waiting.shutdown();
  });

  it('a closed connection fails every job waiting, never hangs', async () => {
    const own = await cluster.connect();
    const client = await remotePool(own, uniqueQueue('closing'));
    const jobs = [client.do(1), client.do(2)];
    await own.close();
    for (const job of jobs) {
      const error = await job.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueueConnectionClosedError);
      expect(codeOf(error)).toBe('ERR_QUEUE_CONNECTION_CLOSED');
    }
    await expect(client.do(3)).rejects.toBeInstanceOf(QueueConnectionClosedError);
  });
});

describe('shutdown', () => {
  it('graceful waits for jobs out; later jobs reject ERR_POOL_CLOSED', async () => {
    const client = await remotePool(cluster.nc, queue);
    const running = client.do(50, { task: 'sleep' });
    const closed = client.shutdown();
    await expect(client.do(1)).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(await running).toBe(50);
    await closed;
    expect(client.state).toBe('closed');
  });
});

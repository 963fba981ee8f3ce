import { afterEach, describe, expect, it } from 'vitest';
import { Pool, type JobRecord } from 'corral';
import { ThreadHandle } from '#internal/threads/thread.js';
import { collect, fixture, rejection, tasks } from '../helpers/index.js';

let pool: Pool | undefined;
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

describe('pool.observe', () => {
  it('reports each settled job with its thread, times, tries and error', async () => {
    const p = (pool = new Pool({ module: tasks, threads: 1 }));
    await p.ready();
    const records: JobRecord[] = [];
    const stop = p.observe((r) => records.push(r));
    await p.do(1);
    await rejection(p.do({ message: 'no', code: 'E_NO' }, { task: 'fail' }));
    await rejection(p.do(1, { task: 'missing' }));
    expect(records).toHaveLength(3);
    const [ok, failed, refused] = records as [JobRecord, JobRecord, JobRecord];
    expect(ok).toMatchObject({ task: 'default', ok: true, tries: 1 });
    expect(ok.error).toBeUndefined();
    expect(ok.threadId).toBeGreaterThan(0);
    expect(ok.startedAt).toBeGreaterThanOrEqual(ok.submittedAt);
    expect(ok.settledAt).toBeGreaterThanOrEqual(ok.startedAt as number);
    expect(failed).toMatchObject({
      task: 'fail',
      ok: false,
      error: { code: 'E_NO', name: 'RangeError', message: 'no' },
    });
    expect(refused).toMatchObject({
      task: 'missing',
      ok: false,
      threadId: -1,
      startedAt: undefined,
      tries: 0,
      error: { code: 'ERR_UNKNOWN_TASK' },
    });
    expect(refused.submittedAt).toBe(refused.settledAt);
    stop();
    stop(); // idempotent
    await p.do(2);
    expect(records).toHaveLength(3);
  });

  it('a throwing listener disturbs neither the job nor the other listeners', async () => {
    const p = (pool = new Pool({ module: tasks, threads: 1 }));
    const thrown: unknown[] = [];
    const onUncaught = (e: unknown): void => {
      thrown.push(e);
    };
    process.on('uncaughtException', onUncaught);
    try {
      const seen: JobRecord[] = [];
      p.observe(() => {
        throw new Error('listener bug');
      });
      p.observe((r) => seen.push(r));
      await expect(p.do(1)).resolves.toBe(2);
      expect(seen).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 10));
      expect(thrown).toMatchObject([{ message: 'listener bug' }]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('rejects a listener that is not a function', () => {
    const p = (pool = new Pool({ module: tasks, threads: 1 }));
    expect(() => p.observe(42 as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    );
  });

  it("a chunk's inputs are reported one by one, failures with their own error", async () => {
    const fail = [5, 300, 301, 999];
    const p = (pool = new Pool({
      module: fixture('chunk-tasks.mjs'),
      threads: 2,
      workerData: { fail },
    }));
    // Count the chunks sent, to know that the batch went in chunks.
    let chunks = 0;
    const send = ThreadHandle.prototype.send; // eslint-disable-line @typescript-eslint/unbound-method
    ThreadHandle.prototype.send = function (this: ThreadHandle, jobs, taskIndex) {
      for (const job of jobs) if (job.chunk && job.size > 1) chunks++;
      return send.call(this, jobs, taskIndex);
    };
    try {
      for (let round = 0; round < 10 && chunks === 0; round++) {
        await collect(p.execute(range(-500, 0), { task: 'throwAt' }));
      }
      expect(chunks, 'the warm-up sent no chunk').toBeGreaterThan(0);
      chunks = 0;
      const records: JobRecord[] = [];
      p.observe((r) => records.push(r));
      const outcomes = await collect(
        p.execute<number, number>(range(0, 1000), { task: 'throwAt' }),
      );
      expect(chunks).toBeGreaterThan(0);
      expect(records).toHaveLength(1000);
      expect(records.filter((r) => r.ok)).toHaveLength(outcomes.filter((o) => o.ok).length);
      const failures = records.filter((r) => !r.ok);
      expect(failures).toHaveLength(fail.length);
      for (const r of failures) expect(r.error).toMatchObject({ name: 'RangeError' });
      expect(failures.map((r) => r.error?.message).sort()).toEqual(
        fail.map((x) => `bad ${x}`).sort(),
      );
    } finally {
      ThreadHandle.prototype.send = send;
    }
  });
});

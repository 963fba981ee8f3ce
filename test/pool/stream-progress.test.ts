import { afterEach, describe, expect, it } from 'vitest';
import { CorralError, Pool } from 'corral';
import { fixture } from '../helpers/index.js';

type ProgressTasks = typeof import('../fixtures/progress-tasks.mjs');

const progressTasks = fixture('progress-tasks.mjs');

let pool: Pool<ProgressTasks> | undefined;
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

/** Inputs whose progress values name them: `tag:1` … `tag:steps`. */
function inputs(n: number): { tag: string; steps: number }[] {
  return Array.from({ length: n }, (_, i) => ({ tag: `t${i}`, steps: i % 4 }));
}

function expected(input: { tag: string; steps: number }): string[] {
  return Array.from({ length: input.steps }, (_, i) => `${input.tag}:${i + 1}`);
}

/** A listener that files each value under its index. */
function recorder(): { seen: Map<number, string[]>; onProgress: (i: number, v: unknown) => void } {
  const seen = new Map<number, string[]>();
  return {
    seen,
    onProgress(index, value) {
      const list = seen.get(index) ?? [];
      list.push(String(value));
      seen.set(index, list);
    },
  };
}

describe('onProgress in execute and wrap', () => {
  it("execute reports each job's progress with its input's index, before its outcome", async () => {
    pool = new Pool<ProgressTasks>({ module: progressTasks, threads: 2 });
    const batch = inputs(40);
    const { seen, onProgress } = recorder();
    let outcomes = 0;
    for await (const o of pool.execute(batch, { task: 'steps', onProgress })) {
      expect(o.ok && o.value).toBe(o.input.tag);
      // The job's progress messages precede its result on the thread's port.
      expect(seen.get(o.index) ?? []).toEqual(expected(o.input));
      outcomes++;
    }
    expect(outcomes).toBe(batch.length);
    batch.forEach((input, i) => {
      expect(seen.get(i) ?? []).toEqual(expected(input));
    });
  });

  it('wrap reports progress by index for an async source, ordered or not', async () => {
    pool = new Pool<ProgressTasks>({ module: progressTasks, threads: 2 });
    const batch = inputs(30);
    async function* source(): AsyncGenerator<{ tag: string; steps: number }> {
      for (const input of batch) yield await Promise.resolve(input);
    }
    for (const ordered of [false, true]) {
      const { seen, onProgress } = recorder();
      const indexes: number[] = [];
      for await (const o of pool.wrap(source(), {
        task: 'steps',
        onProgress,
        ordered,
        window: 4,
      })) {
        expect(seen.get(o.index) ?? []).toEqual(expected(o.input));
        indexes.push(o.index);
      }
      expect([...indexes].sort((a, b) => a - b)).toEqual(batch.map((_, i) => i));
      batch.forEach((input, i) => {
        expect(seen.get(i) ?? []).toEqual(expected(input));
      });
    }
  });

  it('stops reporting once the consumer stops reading, though the running job goes on', async () => {
    pool = new Pool<ProgressTasks>({ module: progressTasks, threads: 1 });
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const heard: [number, unknown][] = [];
    let early!: () => void;
    const earlyHeard = new Promise<void>((resolve) => (early = resolve));
    const stream = pool.wrap([{ gate }], {
      task: 'gated',
      onProgress(index, value) {
        heard.push([index, value]);
        if (value === 'early') early();
      },
    });
    // The stream takes its input at once; the consumer stops before reading any outcome.
    await earlyHeard;
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    // return() waits for the running job, which reports 'late' before it returns.
    expect(await stream.return?.()).toEqual({ value: undefined, done: true });
    expect(heard).toEqual([[0, 'early']]);
    // The job did run to its end: the thread is free and the pool still works.
    expect(await pool.do(7, { task: 'quick' })).toBe(7);
    expect(pool.stats().completed).toBe(2);
  });

  it('rejects an onProgress that is not a function, naming it', () => {
    pool = new Pool<ProgressTasks>({ module: progressTasks, threads: 1 });
    const typed = pool;
    let caught: unknown;
    try {
      typed.execute([1], { task: 'quick', onProgress: 'log' as unknown as () => void });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CorralError);
    expect((caught as CorralError).code).toBe('ERR_INVALID_OPTION');
    expect((caught as Error).message).toMatch(/'onProgress'.*'log'/);
  });
});

/** A record of the jobs a pool sends to its threads (a spy on `ThreadHandle.send`), for tests of chunks. */
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import type { Pool } from 'corral';
import { ThreadHandle } from '#internal/threads/thread.js';
import type { Job } from '#internal/pool/job.js';

/** A job the pool sent to a thread. */
export interface Sent {
  task: string;
  chunk: boolean;
  inputs: unknown[];
  key: string | undefined;
}

/**
 * Records every job sent while the calling test file runs (cleared before each test);
 * returns the record.
 */
export function recordSent(): Sent[] {
  const sent: Sent[] = [];
  const send = ThreadHandle.prototype.send; // eslint-disable-line @typescript-eslint/unbound-method
  beforeAll(() => {
    ThreadHandle.prototype.send = function (
      this: ThreadHandle<Job>,
      jobs: Job[],
      taskIndex: ReadonlyMap<string, number>,
    ) {
      for (const job of jobs) {
        const inputs = job.chunk ? [...(job.input as unknown[])] : [job.input];
        sent.push({ task: job.task, chunk: job.chunk, inputs, key: job.key });
      }
      return send.call(this, jobs, taskIndex);
    };
  });
  afterAll(() => {
    ThreadHandle.prototype.send = send;
  });
  beforeEach(() => {
    sent.length = 0;
  });
  return sent;
}

/** Chunks of several inputs sent for `task` since the record was last cleared. */
export function chunksOf(sent: readonly Sent[], task: string): Sent[] {
  return sent.filter((s) => s.task === task && s.chunk && s.inputs.length > 1);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/**
 * Runs batches of `task` (negative inputs: never chosen to fail) until the pool knows the
 * task is tiny and sends it in chunks, then clears the record.
 */
export async function warm(sent: Sent[], p: Pool, task: string): Promise<void> {
  for (let round = 0; round < 10 && chunksOf(sent, task).length === 0; round++) {
    for await (const o of p.execute(range(-500, 0), { task })) {
      if (!o.ok) throw o.error;
    }
  }
  expect(chunksOf(sent, task).length, 'the warm-up sent no chunk').toBeGreaterThan(0);
  sent.length = 0;
}

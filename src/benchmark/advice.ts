/**
 * What the points mean, in plain words: where adding threads stops paying (the knee), whether
 * the task is too small for threads, and what batching through `execute` changes.
 *
 * @module
 */
import { fmt, type BenchmarkAdvice, type BenchmarkPoint } from './report.js';

/** A step up in threads must add at least this share of jobs/s to count as paying. */
const PAYING_GAIN = 0.1;

/** The thread count past which the next step adds less than {@link PAYING_GAIN}. */
export function findKnee(pool: readonly BenchmarkPoint[]): number {
  let knee = pool[0]?.parameters.threads ?? 1;
  let best = pool[0]?.median ?? 0;
  for (const p of pool.slice(1)) {
    if (p.median < best * (1 + PAYING_GAIN)) break;
    knee = p.parameters.threads;
    best = p.median;
  }
  return knee;
}

/** The findings for a run's points. `pool` are the thread counts in increasing order. */
export function advise(
  inline: BenchmarkPoint,
  pool: readonly BenchmarkPoint[],
  batched: BenchmarkPoint | null,
  cores: number,
): BenchmarkAdvice {
  const knee = findKnee(pool);
  const smallest = pool[0];
  // The task's time as the threads measured it: the main thread's own figure also counts
  // the moments the system took the core away from it.
  const taskMs = smallest?.taskMs ?? inline.taskMs;
  const tooSmall = smallest !== undefined && smallest.overheadMs > taskMs;
  const best = pool.reduce<BenchmarkPoint | undefined>(
    (a, p) => (a === undefined || p.median > a.median ? p : a),
    undefined,
  );
  const messages: string[] = [];
  messages.push(
    `The task takes ${fmt(taskMs * 1000)} µs per job (${fmt(inline.median)} jobs/s inline on the main thread).`,
  );
  if (best !== undefined) {
    messages.push(
      `Adding threads stops paying past ${knee} thread${knee === 1 ? '' : 's'} ` +
        `(${cores} core${cores === 1 ? '' : 's'} here${knee === cores ? ', so it scales to the cores' : knee < cores ? `, ${cores - knee} short of the cores` : ''}); ` +
        `the best was ${fmt(best.median)} jobs/s at ${best.parameters.threads} thread${best.parameters.threads === 1 ? '' : 's'}, ${fmt(best.speedupInline)}x inline.`,
    );
  }
  if (smallest === undefined) {
    // No thread count measured: nothing to say about threads.
  } else if (tooSmall) {
    messages.push(
      `Too small for threads: the pool costs ${fmt(smallest.overheadMs * 1000)} µs per job, more than the task's own ${fmt(taskMs * 1000)} µs. ` +
        'Batch the work: send many inputs through pool.execute (which groups small jobs into chunks), or make each job do more.',
    );
    if (batched !== null) {
      messages.push(
        `Through pool.execute at ${batched.parameters.threads} threads it ran ${fmt(batched.median)} jobs/s, ` +
          `${fmt(batched.speedupInline)}x inline.`,
      );
    }
  } else {
    messages.push(
      `The pool costs ${fmt(smallest.overheadMs * 1000)} µs per job, ${fmt((smallest.overheadMs / taskMs) * 100)}% of the task's run time: large enough for threads.`,
    );
  }
  return { knee, cores, tooSmall, messages };
}

/**
 * What the points mean, in plain words: where adding threads stops paying (the knee), whether
 * the task is too small for threads, and what batching through `execute` changes.
 *
 * @module
 */
import { fmt, type BenchmarkAdvice, type BenchmarkPoint } from './report.js';

/** A thread count whose rate is within this share of the best counts as reaching it. */
const WITHIN_BEST = 0.1;

/**
 * The knee: the fewest threads whose jobs/s come within {@link WITHIN_BEST} of the best rate
 * measured, so that adding threads past it does not pay (more than that share).
 */
export function findKnee(pool: readonly BenchmarkPoint[]): number {
  const best = Math.max(...pool.map((p) => p.median));
  const knee = pool.find((p) => p.median * (1 + WITHIN_BEST) >= best);
  return knee?.parameters.threads ?? 1;
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
    const atKnee = pool.find((p) => p.parameters.threads === knee);
    const efficiency = `${fmt((atKnee?.efficiency ?? NaN) * 100)}% efficiency there`;
    const place =
      knee === cores
        ? `as many as the cores, at ${efficiency}`
        : knee < cores
          ? `${cores - knee} short of the cores`
          : `more than the cores, at ${efficiency}`;
    messages.push(
      `Adding threads stops paying past ${knee} thread${knee === 1 ? '' : 's'} ` +
        `(${cores} core${cores === 1 ? '' : 's'} here: ${place}); ` +
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
        `Through pool.execute at ${batched.parameters.threads} thread${batched.parameters.threads === 1 ? '' : 's'} it ran ${fmt(batched.median)} jobs/s, ` +
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

/** benchmark() as an API: inputs given in code, and its errors by code. */
import { describe, expect, it } from 'vitest';
import { benchmark } from 'corral';
import { fixture, rejection, tasks } from '../helpers/index.js';

const BENCH_TASKS = fixture('bench-tasks.mjs');

describe('benchmark()', () => {
  it('measures inputs given in code, with the points asked for', async () => {
    const report = await benchmark({
      module: BENCH_TASKS,
      task: 'spin5us',
      inputs: [1, 2],
      threads: [2, 1],
      time: 600,
      samples: 2,
    });
    expect(report.inputs).toEqual({ source: 'api', count: 2 });
    expect(report.results.map((p) => `${p.mode}:${p.parameters.threads}`)).toEqual([
      'inline:1',
      'pool:1',
      'pool:2',
    ]);
    expect(report.results.every((p) => p.samples.length === 2)).toBe(true);
  }, 30_000);

  it('rejects a task the module does not export with ERR_UNKNOWN_TASK', async () => {
    const error = await rejection(benchmark({ module: BENCH_TASKS, task: 'nope', time: 100 }));
    expect(error.code).toBe('ERR_UNKNOWN_TASK');
    expect(error.message).toMatch(/spin2ms/);
  });

  it('rejects a module without inputs or a bench() export with ERR_INVALID_OPTION', async () => {
    const error = await rejection(benchmark({ module: tasks, time: 100 }));
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toMatch(/bench\(\) export/);
  });

  it('rejects with what the task threw', async () => {
    const error = await rejection(
      benchmark({ module: BENCH_TASKS, task: 'fails', inputs: [1], threads: [1], time: 100 }),
    );
    expect(error.message).toBe('this task always fails');
  });
});

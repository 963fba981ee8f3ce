/** `corral map` and `corral serve` with `--isolation` (the pool's `isolation` option). */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, jsonLines, map, requireBuild, tempDir, writeJsonl } from '../helpers/cli-map.js';

const TASKS = fileURLToPath(new URL('../fixtures/process-tasks.mjs', import.meta.url));

beforeAll(requireBuild);

describe('corral map --isolation process', () => {
  it('runs records in worker processes, recycled and replaced after a crash, none failing', async () => {
    const records = Array.from({ length: 20 }, (_, n) => ({
      n,
      ...(n === 9 ? { die: 'segv' } : {}),
    }));
    const input = writeJsonl(tempDir(), 'in.jsonl', records);
    const r = await map([
      TASKS,
      input,
      '--task',
      'double',
      '--threads',
      '1',
      '--ordered',
      '--max-tries',
      '2',
      '--isolation',
      'process',
      '--recycle-after-jobs',
      '4',
    ]);
    expect(r.code).toBe(0);
    const out = jsonLines(r.stdout) as { n: number; pid: number }[];
    expect(out.map((o) => o.n)).toEqual(records.map(({ n }) => n * 2));
    const pids = new Set(out.map((o) => o.pid));
    expect(pids.has(process.pid)).toBe(false);
    // Recycled after 4 jobs each: at least 5 processes for 20 records (one more for the crash).
    expect(pids.size).toBeGreaterThanOrEqual(5);
  });

  it('refuses another value as a usage error', async () => {
    const input = writeJsonl(tempDir(), 'in.jsonl', [{ n: 1 }]);
    const r = await map([TASKS, input, '--task', 'double', '--isolation', 'vm']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--isolation');
  });

  it('corral serve takes the same flag', () => {
    const help = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
    expect(help.stdout).toContain('--isolation <where>');
  });
});

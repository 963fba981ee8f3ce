/** `corral map` and `corral serve` with `--recycle-*` (the pool's `recycle` option). */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, jsonLines, map, requireBuild, tempDir, writeJsonl } from '../helpers/cli-map.js';

const LEAKS = fileURLToPath(new URL('../fixtures/leak-tasks.mjs', import.meta.url));

beforeAll(requireBuild);

describe('corral map --recycle-*', () => {
  it('--recycle-after-jobs N replaces each thread after N records, none failing', async () => {
    const input = writeJsonl(
      tempDir(),
      'in.jsonl',
      Array.from({ length: 20 }, (_, n) => n),
    );
    const r = await map([
      LEAKS,
      input,
      '--task',
      'count',
      '--threads',
      '1',
      '--ordered',
      '--recycle-after-jobs',
      '4',
    ]);
    expect(r.code).toBe(0);
    const out = jsonLines(r.stdout) as { n: number; threadId: number; jobs: number }[];
    expect(out.map((o) => o.n)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(Math.max(...out.map((o) => o.jobs))).toBeLessThanOrEqual(4);
    expect(new Set(out.map((o) => o.threadId)).size).toBeGreaterThanOrEqual(5);
  });

  it('refuses a limit below 1 as a usage error', async () => {
    const input = writeJsonl(tempDir(), 'in.jsonl', [1]);
    const r = await map([LEAKS, input, '--recycle-heap-above', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--recycle-heap-above must be an integer >= 1');
  });

  it('corral serve takes the same flags', () => {
    const help = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
    expect(help.stdout).toContain('--recycle-after-jobs <n>');
    expect(help.stdout).toContain('--recycle-heap-above <mb>');
  });
});

/**
 * `corral map ... | head -1`: when the reader of stdout goes away, corral stops reading
 * and ends quietly like other filters (no error text, exit 0), through a real pipe.
 * Needs the build (dist/).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { CLI, TASKS, requireBuild, tempDir, writeJsonl } from '../helpers/cli-map.js';

beforeAll(requireBuild);

const RECORDS = 2000;

it('stops reading and exits 0 without error text when stdout is closed', async () => {
  const dir = tempDir();
  const log = join(dir, 'started.log');
  const input = writeJsonl(
    dir,
    'in.jsonl',
    Array.from({ length: RECORDS }, (_, i) => ({ id: i + 1, ms: 5, log })),
  );
  const stderr = join(dir, 'stderr.txt');
  const code = join(dir, 'code.txt');
  const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  const script =
    `${q(process.execPath)} ${q(CLI)} map ${q(TASKS)} ${q(input)} --threads 2 2>${q(stderr)}` +
    ` | head -1; echo "\${PIPESTATUS[0]}" >${q(code)}`;
  const { stdout } = await promisify(execFile)('bash', ['-c', script]);

  expect(stdout).toMatch(/^\{"id":\d+,"double":\d+\}\n$/);
  expect(readFileSync(code, 'utf8').trim()).toBe('0');
  expect(readFileSync(stderr, 'utf8')).toBe('');
  // It stopped reading: far from every record was started.
  const started = readFileSync(log, 'utf8').split('\n').length - 1;
  expect(started).toBeGreaterThan(0);
  expect(started).toBeLessThan(RECORDS);
});

/**
 * `corral map --key FIELD --target KEY=N`: at most N records of a key run at once, as
 * seen from inside the worker threads. Each record appends `+ key` when it starts and
 * `- key` when it ends to one log file; replaying the log gives the most that ran at once.
 *
 * Needs per-key targets in the pool (issue 3: `pool.setTarget`, `wrap`'s `key`). A build
 * without them runs the second test instead: the CLI must refuse `--key` clearly.
 * Needs the build (dist/).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  TASKS,
  jsonLines,
  map,
  requireBuild,
  summary,
  tempDir,
  writeJsonl,
} from '../helpers/cli-map.js';

beforeAll(requireBuild);

/** The most records of each key that were running at once, replaying the log. */
function mostAtOnce(log: string): Map<string, number> {
  const now = new Map<string, number>();
  const most = new Map<string, number>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (line === '') continue;
    const key = line.slice(2);
    const n = (now.get(key) ?? 0) + (line.startsWith('+') ? 1 : -1);
    now.set(key, n);
    most.set(key, Math.max(most.get(key) ?? 0, n));
  }
  return most;
}

describe('corral map --key/--target', () => {
  it('runs at most N records of a targeted key at once; other keys are not limited', async () => {
    const dir = tempDir();
    const log = join(dir, 'running.log');
    const records = Array.from({ length: 24 }, (_, i) => ({
      id: i,
      key: ['a', 'b', 'c'][i % 3],
      ms: 100,
      log,
    }));
    const input = writeJsonl(dir, 'in.jsonl', records);
    // 6 threads: room for a (1) + b (2) + c (the other 3), so only the targets can hold a key back.
    const r = await map([
      TASKS,
      input,
      '--task',
      'track',
      '--threads',
      '6',
      '--key',
      'key',
      '--target',
      'a=1',
      '--target',
      'b=2',
    ]);
    expect(r.code).toBe(0);
    expect(summary(r.stderr)).toEqual({ records: 24, failed: 0 });
    expect((jsonLines(r.stdout) as number[]).sort((x, y) => x - y)).toEqual(
      records.map((o) => o.id),
    );
    const most = mostAtOnce(log);
    expect(most.get('a')).toBe(1);
    expect(most.get('b')).toBeLessThanOrEqual(2);
    // The control: 8 records of 100 ms on 3 free threads always overlap.
    expect(most.get('c')).toBeGreaterThan(1);
  });

  it('records without the field (or with a non-scalar value) have no key and are not held', async () => {
    const r = await map([TASKS, '--task', 'id', '--key', 'key', '--target', 'a=1'], {
      stdin: '{"id":1}\n{"id":2,"key":{"x":1}}\n[3]\n{"id":4,"key":"a"}\n',
    });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').sort()).toEqual(['', '1', '2', '4', 'null']);
  });
});

/**
 * `corral map` stopped by SIGINT/SIGTERM: it stops reading, lets the records it took
 * finish, writes their results and the summary, and exits 130. No record is lost (every
 * record started has its result written) or written twice. Needs the build (dist/).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  TASKS,
  jsonLines,
  requireBuild,
  startMap,
  summary,
  tempDir,
  writeJsonl,
} from '../helpers/cli-map.js';

beforeAll(requireBuild);

const RECORDS = 2000;

/** Polls until `check()` holds. Not a timing assertion: it only waits for progress. */
async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const lineCount = (text: string): number => text.split('\n').length - 1;

describe('corral map: interrupted', () => {
  it.each([
    ['SIGINT', false],
    ['SIGTERM', true],
  ] as const)(
    '%s (ordered: %s): in-flight records finish and are written, exit 130',
    async (signal, ordered) => {
      const dir = tempDir();
      const log = join(dir, 'started.log');
      const ids = Array.from({ length: RECORDS }, (_, i) => i + 1);
      const input = writeJsonl(
        dir,
        'in.jsonl',
        ids.map((id) => ({ id, ms: 20, log })),
      );
      const run = startMap([TASKS, input, '--threads', '2', ...(ordered ? ['--ordered'] : [])]);
      await until(() => lineCount(run.stdout()) >= 20);
      run.child.kill(signal);
      const r = await run.done;

      expect(r.code).toBe(130);
      const results = jsonLines(r.stdout) as { id: number; double: number }[];
      const written = results.map((o) => o.id);
      expect(new Set(written).size).toBe(written.length); // none twice
      for (const o of results) expect(o.double).toBe(o.id * 2); // each one right
      expect(written.length).toBeLessThan(RECORDS); // it did stop early
      // Every record that was started has its result written: none lost.
      const started = readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => Number(l.slice('start '.length)));
      expect(new Set(started).size).toBe(started.length);
      expect([...started].sort((a, b) => a - b)).toEqual([...written].sort((a, b) => a - b));
      if (ordered) expect(written).toEqual(ids.slice(0, written.length));
      expect(summary(r.stderr)).toEqual({ records: written.length, failed: 0, signal });
    },
  );

  it('stops while waiting on stdin that never ends', async () => {
    const run = startMap([TASKS, '--task', 'id']);
    run.child.stdin.write('{"id":1}\n{"id":2}\n{"id":3}\n');
    await until(() => lineCount(run.stdout()) === 3);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(jsonLines(r.stdout).sort()).toEqual([1, 2, 3]);
    expect(summary(r.stderr)).toEqual({ records: 3, failed: 0, signal: 'SIGINT' });
  });

  it('a second signal exits at once, without waiting for the records in flight', async () => {
    // The first record is quick; the next ones would take a minute each.
    const records = [{ id: 1 }, ...[2, 3, 4, 5].map((id) => ({ id, ms: 60_000 }))];
    const run = startMap([TASKS, '--threads', '2'], {
      stdin: records.map((r) => JSON.stringify(r)).join('\n') + '\n',
    });
    await until(() => lineCount(run.stdout()) === 1);
    run.child.kill('SIGINT');
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stdout).toBe('{"id":1,"double":2}\n');
    expect(r.stderr).toContain('corral map: interrupted again: exiting without waiting');
  });
});

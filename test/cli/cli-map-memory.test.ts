/**
 * `corral map` over 1,000,000 piped records runs in bounded memory: the input is read only
 * as fast as results are written. A preload (test/helpers/report-rss.mjs) reports the
 * process's peak RSS on exit (`process.resourceUsage().maxRSS`, which covers the worker
 * threads too).
 * Buffering the whole input would take well over the limit: the records alone are 123 MB
 * of text, several times that as objects. Needs the build (dist/).
 */
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { TASKS, requireBuild, startMap, summary } from '../helpers/cli-map.js';

beforeAll(requireBuild);

const RECORDS = 1_000_000;
const REPORT_RSS = fileURLToPath(new URL('../helpers/report-rss.mjs', import.meta.url));
const LIMIT_KB = 300 * 1024;

it('pipes 1,000,000 records through in bounded memory', { timeout: 120_000 }, async () => {
  let lines = 0;
  let sum = 0;
  let partial = '';
  const run = startMap([TASKS, '--task', 'id'], {
    env: { NODE_OPTIONS: `--import=${REPORT_RSS}` },
    collect: false,
    onStdout: (chunk) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      lines += parts.length;
      for (const part of parts) sum += Number(part);
    },
  });
  const pad = 'x'.repeat(100);
  const stdin = run.child.stdin;
  for (let id = 0; id < RECORDS; id += 1000) {
    let batch = '';
    for (let i = id; i < id + 1000; i++) batch += `{"id":${i},"pad":"${pad}"}\n`;
    if (!stdin.write(batch)) await once(stdin, 'drain');
  }
  stdin.end();
  const r = await run.done;

  expect(r.code).toBe(0);
  expect(lines).toBe(RECORDS);
  expect(sum).toBe((RECORDS * (RECORDS - 1)) / 2); // every id once
  expect(summary(r.stderr)).toEqual({ records: RECORDS, failed: 0 });
  const rss = /max RSS (\d+) kB/.exec(r.stderr);
  expect(rss).not.toBeNull();
  console.log(`corral map, ${RECORDS} records: peak RSS ${Math.round(Number(rss?.[1]) / 1024)} MB`);
  expect(Number(rss?.[1])).toBeLessThan(LIMIT_KB);
});

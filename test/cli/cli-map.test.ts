/**
 * `corral map` end to end: the built executable as a child process. Records, results,
 * failures, ordering, usage and start-up errors. Needs the build (dist/).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  TASKS,
  jsonLines,
  map,
  requireBuild,
  startMap,
  summary,
  tempDir,
  writeJsonl,
} from '../helpers/cli-map.js';

const BROKEN = fileURLToPath(new URL('../fixtures/cli-broken.mjs', import.meta.url));
const SUMMARY = /^corral map: (\d+) records, (\d+) failed, \d+\.\d\d s, \d+ records\/s\n$/;

beforeAll(requireBuild);

/** Records that finish in reverse order: the first sleeps longest. */
const slowFirst = [1, 2, 3, 4, 5].map((id) => ({ id, ms: (6 - id) * 40 }));
const doubled = (ids: number[]): string =>
  ids.map((id) => `{"id":${id},"double":${id * 2}}\n`).join('');

describe('corral map: results', () => {
  it('writes each result as a JSON line, in input order with --ordered, and a summary', async () => {
    const input = writeJsonl(tempDir(), 'in.jsonl', slowFirst);
    const r = await map([TASKS, input, '--ordered', '--threads', '3']);
    expect(r.stdout).toBe(doubled([1, 2, 3, 4, 5]));
    expect(r.stderr).toMatch(SUMMARY);
    expect(summary(r.stderr)).toEqual({ records: 5, failed: 0 });
    expect(r.code).toBe(0);
  });

  it('without --ordered writes every result exactly once, as records complete', async () => {
    const input = writeJsonl(tempDir(), 'in.jsonl', slowFirst);
    const r = await map([TASKS, input, '--threads', '3']);
    expect(r.code).toBe(0);
    const ids = jsonLines(r.stdout).map((o) => (o as { id: number }).id);
    expect([...ids].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('reads stdin (no INPUT, or "-"), and plain lines with --format lines (BOM and CR dropped)', async () => {
    const fromStdin = await map([TASKS, '--task', 'upper', '--format', 'lines', '--ordered'], {
      stdin: '\uFEFFabc\n\nd"e\r\nlast\r',
    });
    expect(fromStdin.stdout).toBe('"ABC"\n""\n"D\\"E"\n"LAST"\n');
    expect(summary(fromStdin.stderr)).toEqual({ records: 4, failed: 0 });
    const dash = await map([TASKS, '-', '--task', 'id'], { stdin: '{"id":7}\n' });
    expect(dash).toMatchObject({ code: 0, stdout: '7\n' });
  });

  it('--output writes the results to a file, leaving stdout empty', async () => {
    const dir = tempDir();
    const input = writeJsonl(dir, 'in.jsonl', slowFirst);
    const output = join(dir, 'out.jsonl');
    const r = await map([TASKS, input, '--ordered', '--output', output]);
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(readFileSync(output, 'utf8')).toBe(doubled([1, 2, 3, 4, 5]));
  });

  it('a result JSON cannot hold is a failed record; undefined is written as null', async () => {
    const big = await map([TASKS, '--task', 'big'], { stdin: '1\n' });
    expect(big.code).toBe(1);
    expect(big.stdout).toBe('');
    const [failure] = jsonLines(big.stderr.split('corral map:')[0] ?? '');
    expect(failure).toMatchObject({
      line: 1,
      input: 1,
      error: { name: 'ResultNotJsonError', code: 'ERR_RESULT_NOT_JSON' },
    });
    const nothing = await map([TASKS, '--task', 'nothing'], { stdin: '1\n2\n' });
    expect(nothing).toMatchObject({ code: 0, stdout: 'null\nnull\n' });
  });
});

describe('corral map: --with-line', () => {
  it('writes each result with its input line, in completion order; failures keep their line', async () => {
    // Line 2 is blank and line 4 malformed: records keep the numbers of their lines.
    const r = await map([TASKS, '--with-line', '--threads', '3'], {
      stdin: '{"id":1,"ms":200}\n\n{"id":2}\n{oops\n{"id":3,"ms":100}\n',
    });
    expect(r.code).toBe(1);
    const results = jsonLines(r.stdout);
    expect(results.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      { line: 1, result: { id: 1, double: 2 } },
      { line: 3, result: { id: 2, double: 4 } },
      { line: 5, result: { id: 3, double: 6 } },
    ]);
    const [failure] = jsonLines(r.stderr.split('corral map:')[0] ?? '');
    expect(failure).toMatchObject({ line: 4, input: '{oops' });
  });

  it('with --ordered, in input order; an undefined result is null', async () => {
    const r = await map([TASKS, '--with-line', '--ordered', '--threads', '3'], {
      stdin: slowFirst.map((o) => JSON.stringify(o)).join('\n'),
    });
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)).toEqual(
      [1, 2, 3, 4, 5].map((id) => ({ line: id, result: { id, double: id * 2 } })),
    );
    const nothing = await map([TASKS, '--task', 'nothing', '--with-line'], { stdin: '1\n' });
    expect(nothing.stdout).toBe('{"line":1,"result":null}\n');
  });
});

describe('corral map: failed records', () => {
  it('malformed lines and task errors are failed records with their line; exit 1', async () => {
    const dir = tempDir();
    const input = join(dir, 'in.jsonl');
    const lines = [
      '{"id":1}',
      'not json',
      '',
      '{"id":2,"fail":"no thanks","ms":50}',
      '{"id": 3',
      '   ',
      '{"id":4}',
    ];
    writeFileSync(input, lines.join('\n') + '\n');
    const errors = join(dir, 'errors.jsonl');
    const r = await map([TASKS, input, '--ordered', '--errors', errors]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(doubled([1, 4]));
    expect(r.stderr).toMatch(SUMMARY);
    expect(summary(r.stderr)).toEqual({ records: 5, failed: 3 });
    const failures = jsonLines(readFileSync(errors, 'utf8')) as {
      line: number;
      input: unknown;
      error: { name: string; message: string; code: string | null };
    }[];
    // The parser's wording varies between Node versions: only its prefix is ours.
    const invalid = { name: 'InvalidRecordError', code: 'ERR_INVALID_RECORD' };
    expect(failures).toMatchObject([
      { line: 2, input: 'not json', error: invalid },
      {
        line: 4,
        input: { id: 2, fail: 'no thanks', ms: 50 },
        error: { name: 'RangeError', message: 'no thanks', code: 'E_RECORD' },
      },
      { line: 5, input: '{"id": 3', error: invalid },
    ]);
    expect(failures[0]?.error.message).toMatch(/^not valid JSON: /);
    expect(failures[2]?.error.message).toMatch(/^not valid JSON: /);
  });

  it('failures go to stderr, before the summary, without --errors', async () => {
    const r = await map([TASKS], { stdin: '{"id":1}\n{oops\n' });
    expect(r.code).toBe(1);
    const [failure, last] = r.stderr.split('\n');
    expect(JSON.parse(failure ?? '')).toMatchObject({ line: 2, input: '{oops' });
    expect(`${last ?? ''}\n`).toMatch(SUMMARY);
  });

  it('--timeout fails a record that runs too long with ERR_JOB_TIMEOUT; the others go on', async () => {
    const r = await map([TASKS, '--timeout', '100', '--ordered'], {
      stdin: '{"id":1}\n{"id":2,"ms":5000}\n{"id":3}\n',
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(doubled([1, 3]));
    const [failure] = jsonLines(r.stderr.split('corral map:')[0] ?? '');
    expect(failure).toMatchObject({ line: 2, error: { code: 'ERR_JOB_TIMEOUT' } });
  });
});

describe('corral map: usage and start-up errors (exit 2)', () => {
  it.each([
    [['--threads', 'abc'], /--threads must be an integer >= 1; got 'abc'/],
    [['--threads', '0'], /--threads must be an integer >= 1; got '0'/],
    [['--max-tries', '1.5'], /--max-tries must be an integer >= 1/],
    [['--timeout', 'soon'], /--timeout must be an integer >= 0/],
    [['--format', 'csv'], /--format.*csv.*choices/],
    [['--target', 'a=1'], /--target needs --key/],
    [['--key', 'k', '--target', 'a'], /--target must be KEY=N; got 'a'/],
    [['--key', 'k', '--target', 'a=0'], /--target N must be an integer >= 1/],
    [['--key', 'k', '--format', 'lines'], /--key needs JSON records/],
  ])('%j', async (flags, message) => {
    const r = await map([TASKS, ...flags], { stdin: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('no MODULE is a usage error', async () => {
    const r = await map([], { stdin: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing required argument 'module'/);
  });

  // stdin stays open: the CLI must fail without waiting for any input.
  it.each([
    [
      'a missing module',
      ['/no/such/module.mjs'],
      /does not exist: \/no\/such\/module\.mjs \(ERR_MODULE_NOT_FOUND\)/,
    ],
    [
      'a module that fails to load',
      [BROKEN],
      /failed to load.*\(ERR_MODULE_LOAD\): cli-broken\.mjs refuses to load/,
    ],
    [
      'a task the module does not export',
      [TASKS, '--task', 'nope'],
      /no task named 'nope' \(tasks: .*upper.*\) \(ERR_UNKNOWN_TASK\)/,
    ],
  ])('%s fails before reading any input', async (_name, args, message) => {
    const r = await map(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/records/);
  });

  it('an unreadable input file is an error before the pool starts', async () => {
    const dir = tempDir();
    const missing = await map([TASKS, join(dir, 'missing.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read input .*missing\.jsonl: ENOENT.*\(ERR_INPUT\)/);
    const directory = await map([TASKS, dir]);
    expect(directory.code).toBe(2);
    expect(directory.stderr).toMatch(/cannot read input .*: it is a directory \(ERR_INPUT\)/);
  });

  it('an output file that cannot be opened is an error', async () => {
    const r = await map([TASKS, '--output', join(tempDir(), 'no', 'such', 'dir')], { stdin: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot write .*ENOENT.*\(ERR_OUTPUT\)/);
  });
});

it('--help documents every flag and exits 0', async () => {
  const r = startMap(['--help']);
  const { code, stdout } = await r.done;
  expect(code).toBe(0);
  for (const flag of [
    '<module>',
    '[input]',
    '--task <name>',
    '--threads <n>',
    '--key <field>',
    '--target <key=n>',
    '--ordered',
    '--with-line',
    '--max-tries <n>',
    '--timeout <ms>',
    '--output <file>',
    '--errors <file>',
    '--format <format>',
    'Exit codes:',
  ]) {
    expect(stdout).toContain(flag);
  }
  // Says what the default order is, and what --ordered changes.
  expect(stdout).toMatch(/by default results are written in completion order/);
  expect(stdout).toMatch(/--ordered writes them in input order/);
});

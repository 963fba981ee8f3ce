/**
 * `corral bench MODULE`: a run on tasks of known cost writes a JSON report with every
 * requested point and a chart with one point per thread count; bad input is a clear error,
 * exit code 2, and nothing written. Runs the built CLI.
 *
 * Timing on a shared 2-core machine is noisy: the speedup bounds come from the issue
 * (1.3 to 2.2 at 2 threads for a 2 ms task); everything else asserts behaviour.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BenchmarkReport } from 'corral';
import { CLI, requireBuild } from '../helpers/cli-map.js';
import { fixture, tempDir } from '../helpers/index.js';

const run = promisify(execFile);
const TASKS = fixture('bench-tasks.mjs');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `corral bench ARGS` to its end. */
function bench(args: string[], cwd?: string): Promise<Outcome> {
  return run(process.execPath, [CLI, 'bench', ...args], { timeout: 60_000, cwd }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: unknown) => e as Outcome,
  );
}

describe('corral bench MODULE on a 2 ms task', () => {
  const dir = tempDir();
  const json = join(dir, 'report.json');
  const chart = join(dir, 'chart.svg');
  let r: Outcome;
  let report: BenchmarkReport;

  beforeAll(async () => {
    requireBuild();
    r = await bench([
      TASKS,
      '--task',
      'spin2ms',
      '--threads',
      '1,2',
      '--time',
      '4s',
      '--json',
      json,
      '--chart',
      chart,
    ]);
    report = JSON.parse(readFileSync(json, 'utf8')) as BenchmarkReport;
  }, 60_000);

  it('prints the table and the advice, exit code 0', () => {
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/threads +jobs\/s/);
    expect(r.stdout).toMatch(/^ +inline +[\d,.]+/m);
    expect(r.stdout).toMatch(/Adding threads stops paying past \d+ threads?/);
  });

  it('has the inline point and one per requested thread count, each with its samples', () => {
    expect(report.results.map((p) => [p.mode, p.parameters.threads])).toEqual([
      ['inline', 1],
      ['pool', 1],
      ['pool', 2],
    ]);
    for (const p of report.results) {
      expect(p.samples).toHaveLength(report.plan.samples);
      for (const k of ['mean', 'stddev', 'median', 'min', 'max'] as const) {
        expect(Number.isFinite(p[k]), `${p.mode} ${p.parameters.threads} ${k}`).toBe(true);
      }
      expect(p.min).toBeLessThanOrEqual(p.median);
      expect(p.median).toBeLessThanOrEqual(p.max);
    }
    expect(report.inputs).toEqual({ source: 'bench-export', count: 4 });
  });

  it('speeds up between 1.3x and 2.2x at 2 threads', async () => {
    // Other work on this shared machine can starve one run's threads: up to two more runs
    // before failing, and the message shows every attempt.
    const speedup = (rep: BenchmarkReport): number =>
      rep.results.find((p) => p.mode === 'pool' && p.parameters.threads === 2)?.speedupOneThread ??
      NaN;
    const within = (s: number): boolean => s > 1.3 && s < 2.2;
    const seen = [speedup(report)];
    for (let attempt = 2; attempt <= 3 && !within(seen.at(-1) ?? NaN); attempt++) {
      const again = join(dir, `again-${attempt}.json`);
      const rerun = await bench([
        TASKS,
        '--task',
        'spin2ms',
        '--threads',
        '1,2',
        '--time',
        '4s',
        '--json',
        again,
      ]);
      expect(rerun.code).toBe(0);
      seen.push(speedup(JSON.parse(readFileSync(again, 'utf8')) as BenchmarkReport));
    }
    expect(within(seen.at(-1) ?? NaN), `speedups seen: ${seen.join(', ')}`).toBe(true);
  }, 150_000);

  it('throughput x time agrees with the jobs run', () => {
    for (const p of report.results) {
      // The overall rate is jobs / seconds; the samples' mean weighs each sample equally, and
      // the samples are of equal planned length, so the two agree within a few percent.
      expect(p.jobs).toBeGreaterThan(0);
      expect(p.mean * p.seconds).toBeGreaterThan(p.jobs * 0.9);
      expect(p.mean * p.seconds).toBeLessThan(p.jobs * 1.1);
    }
  });

  it('does not call a 2 ms task too small for threads', () => {
    expect(report.advice.tooSmall).toBe(false);
    expect(report.batched).toBeNull();
    expect(r.stdout).not.toMatch(/Too small for threads/);
  });

  it('writes a chart with one point per thread count in each measure', () => {
    const svg = new XMLParser({
      ignoreAttributes: false,
      isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
    }).parse(readFileSync(chart, 'utf8')) as {
      svg: { g: { '@_data-series'?: string; circle?: unknown[] }[] }[];
    };
    const series = (svg.svg[0]?.g ?? []).filter((g) => g['@_data-series'] !== undefined);
    expect(series.map((g) => g['@_data-series'])).toEqual(['jobs-per-second', 'efficiency']);
    for (const g of series) expect(g.circle).toHaveLength(2);
  });
});

it('says a 5 µs task is too small for threads, and measures execute', async () => {
  requireBuild();
  const dir = tempDir();
  const json = join(dir, 'report.json');
  const r = await bench([
    TASKS,
    '--task',
    'spin5us',
    '--threads',
    '1',
    '--time',
    '1s',
    '--json',
    json,
  ]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/Too small for threads/);
  const report = JSON.parse(readFileSync(json, 'utf8')) as BenchmarkReport;
  expect(report.advice.tooSmall).toBe(true);
  expect(report.batched?.mode).toBe('batched');
}, 60_000);

it('reads sample inputs from an INPUT.jsonl file', async () => {
  requireBuild();
  const dir = tempDir();
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, '1\n\n{"a":2}\n');
  const json = join(dir, 'report.json');
  const r = await bench([
    TASKS,
    input,
    '--task',
    'spin5us',
    '--threads',
    '1',
    '--time',
    '500ms',
    '--json',
    json,
  ]);
  expect(r.code).toBe(0);
  const report = JSON.parse(readFileSync(json, 'utf8')) as BenchmarkReport;
  expect(report.inputs).toEqual({ source: 'file', count: 2 });
}, 60_000);

describe('bad input: a clear error, exit code 2, nothing written', () => {
  beforeAll(requireBuild);

  const cases: [string, (dir: string) => string[], RegExp][] = [
    ['no such task', () => [TASKS, '--task', 'nope'], /no task named 'nope' \(tasks: .*spin2ms/],
    [
      'an empty input',
      (dir) => {
        writeFileSync(join(dir, 'empty.jsonl'), '\n\n');
        return [TASKS, join(dir, 'empty.jsonl')];
      },
      /INPUT.*at least one record/,
    ],
    ['--threads 0', () => [TASKS, '--threads', '0'], /--threads.*positive integers.*'0'/],
    ['--threads abc', () => [TASKS, '--threads', 'abc'], /--threads.*positive integers.*'abc'/],
    ['--time 0', () => [TASKS, '--time', '0s'], /--time/],
    ['a missing module', (dir) => [join(dir, 'missing.mjs')], /missing\.mjs/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const dir = tempDir();
      const given = args(dir);
      // Short, should validation ever let a run through: the test then fails on its code.
      const time = given.includes('--time') ? [] : ['--time', '200ms'];
      const out = ['--json', join(dir, 'out.json'), '--chart', join(dir, 'out.svg')];
      const r = await bench([...given, ...time, ...out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^corral bench: /);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
      expect(readdirSync(dir).filter((f) => f.startsWith('out'))).toEqual([]);
      expect(existsSync(join(dir, 'out.json'))).toBe(false);
    });
  }
});

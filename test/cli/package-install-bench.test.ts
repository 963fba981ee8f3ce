/**
 * `npx corral bench MODULE` from the packed package installed in a fresh project (as
 * test/cli/package-install.test.ts installs it), on a user's own `.js` task module and on a
 * `.ts` one with tsx installed in that project. Needs the build.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BenchmarkReport } from 'corral';
import { requireBuild } from '../helpers/cli-map.js';
import { installPacked, sh, type Outcome } from '../helpers/sh.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const SPIN =
  "import { performance } from 'node:perf_hooks';\n" +
  'function spin(ms) { const end = performance.now() + ms; let x = 0; while (performance.now() < end) x++; return x; }\n';

describe('npx corral bench from the installed package', () => {
  let project = '';

  beforeAll(async () => {
    requireBuild();
    // tsx as the README tells users of .ts task modules: a devDependency of their project.
    let install: Outcome;
    ({ project, install } = await installPacked(ROOT, ['tsx']));
    expect(install.code, install.stderr).toBe(0);
  }, 180_000);

  it('measures a .js task module with a bench() export', async () => {
    writeFileSync(
      join(project, 'work.js'),
      `${SPIN}export const work = (n) => spin(n);\nexport const bench = () => [1, 1, 1];\n`,
    );
    const r = await sh(
      'npx',
      [
        '--no-install',
        'corral',
        'bench',
        'work.js',
        '--task',
        'work',
        '--threads',
        '1,2',
        '--time',
        '1s',
        '--json',
        'js.json',
      ],
      project,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Adding threads stops paying/);
    const report = JSON.parse(readFileSync(join(project, 'js.json'), 'utf8')) as BenchmarkReport;
    expect(report.results.map((p) => p.parameters.threads)).toEqual([1, 1, 2]);
  }, 60_000);

  it('measures a .ts task module with inputs from a JSON-lines file', async () => {
    writeFileSync(
      join(project, 'work.ts'),
      `${SPIN}interface Job { readonly ms: number }\nexport default function work(job: Job): number { return spin(job.ms); }\n`,
    );
    writeFileSync(join(project, 'jobs.jsonl'), '{"ms":1}\n{"ms":1}\n');
    const r = await sh(
      'npx',
      [
        '--no-install',
        'corral',
        'bench',
        'work.ts',
        'jobs.jsonl',
        '--threads',
        '1',
        '--time',
        '1s',
        '--json',
        'ts.json',
        '--chart',
        'ts.svg',
      ],
      project,
    );
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(project, 'ts.json'), 'utf8')) as BenchmarkReport;
    expect(report.inputs).toEqual({ source: 'file', count: 2 });
    expect(report.task).toBe('default');
    expect(readFileSync(join(project, 'ts.svg'), 'utf8')).toMatch(/^<svg /);
  }, 60_000);
});

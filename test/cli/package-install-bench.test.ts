/**
 * `npx corral bench MODULE` from the packed package installed in a fresh project (as
 * test/cli/package-install.test.ts installs it), on a user's own `.js` task module and on a
 * `.ts` one with tsx installed in that project. Needs the build.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BenchmarkReport } from 'corral';
import { requireBuild } from '../helpers/cli-map.js';
import { tempDir } from '../helpers/index.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The environment without the variables of an enclosing `npm run`, which would steer npm. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, resolving (never rejecting) with its exit code and output. */
async function sh(file: string, args: string[], cwd: string): Promise<Outcome> {
  return run(file, args, { cwd, env: cleanEnv(), timeout: 120_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: unknown) => e as Outcome,
  );
}

const SPIN =
  "import { performance } from 'node:perf_hooks';\n" +
  'function spin(ms) { const end = performance.now() + ms; let x = 0; while (performance.now() < end) x++; return x; }\n';

describe('npx corral bench from the installed package', () => {
  let project = '';

  beforeAll(async () => {
    requireBuild();
    const dir = tempDir();
    const pack = await sh('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], ROOT);
    expect(pack.code).toBe(0);
    const tarball = join(dir, pack.stdout.trim().split('\n').at(-1) ?? '');
    project = join(dir, 'project');
    await run('mkdir', [project]);
    writeFileSync(
      join(project, 'package.json'),
      '{ "name": "user", "private": true, "type": "module" }\n',
    );
    // tsx as the README tells users of .ts task modules: a devDependency of their project.
    const install = await sh(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, 'tsx'],
      project,
    );
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

/** Running a command as a user's shell would, for the tests of the packed package. */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './index.js';

const run = promisify(execFile);

/** The environment without the variables of an enclosing `npm run`, which would steer npm. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

/** A finished command: its exit code and output. */
export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, resolving (never rejecting) with its exit code and output. */
export async function sh(file: string, args: string[], cwd: string): Promise<Outcome> {
  return run(file, args, { cwd, env: cleanEnv(), timeout: 120_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: unknown) => {
      const failure = e as Outcome;
      return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
    },
  );
}

/**
 * Packs the package at `root` (dist/ must be built: packing runs no script) and installs the
 * tarball, with `extra` packages, into a fresh project of its own, as a user would.
 */
export async function installPacked(
  root: string,
  extra: string[] = [],
): Promise<{ project: string; install: Outcome }> {
  const dir = tempDir();
  const pack = await sh('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], root);
  if (pack.code !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  const tarball = join(dir, pack.stdout.trim().split('\n').at(-1) ?? '');
  const project = join(dir, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    '{ "name": "user", "private": true, "type": "module" }\n',
  );
  const install = await sh(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...extra],
    project,
  );
  return { project, install };
}

/** Runs the built `corral map` as a child process, for the test/cli-map*.test.ts files. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The `corral` executable under test. A stand-in that registers only `map` until
 * src/cli/main.ts does; then this becomes `../dist/src/cli/main.js`.
 */
export const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

/** The task module the tests map with. */
export const TASKS = fileURLToPath(new URL('../fixtures/cli-tasks.mjs', import.meta.url));

/** The built library the executable runs on. */
const BUILT = fileURLToPath(new URL('../../dist/src/cli/map.js', import.meta.url));

/** Throws unless the build exists: the CLI runs from dist/. */
export function requireBuild(): void {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` first`);
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly done: Promise<Result>;
  /** Stdout so far (empty when not collected). */
  stdout(): string;
  stderr(): string;
}

export interface StartOptions {
  /** Text for stdin, written and then closed; omit to leave stdin open for the test. */
  stdin?: string;
  env?: Record<string, string>;
  /** Keep stdout (false for huge outputs: pass `onStdout` instead). @default true */
  collect?: boolean;
  onStdout?: (chunk: Buffer) => void;
}

/** Starts `corral map ...args`. */
export function startMap(args: readonly string[], options: StartOptions = {}): Running {
  const child = spawn(process.execPath, [CLI, 'map', ...args], {
    env: { ...process.env, ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    if (options.collect !== false) stdout += chunk.toString();
    options.onStdout?.(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  if (options.stdin !== undefined) child.stdin.end(options.stdin);
  const done = new Promise<Result>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

/** Runs `corral map ...args` to the end. */
export function map(args: readonly string[], options?: StartOptions): Promise<Result> {
  return startMap(args, options).done;
}

/** A fresh directory for a test's files. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'corral-cli-map-'));
}

/** Writes `records` as JSON lines into `dir/name`; returns the path. */
export function writeJsonl(dir: string, name: string, records: readonly unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return path;
}

/** The summary line's numbers: `corral map:[ interrupted by SIG,] N records, F failed, ...`. */
export function summary(stderr: string): { records: number; failed: number; signal?: string } {
  const m =
    /corral map:(?: interrupted by (SIG\w+),)? (\d+) records?, (\d+) failed, [\d.]+ s, \d+ records\/s\n/.exec(
      stderr,
    );
  if (m === null) throw new Error(`no summary line in stderr:\n${stderr}`);
  const parsed = { records: Number(m[2]), failed: Number(m[3]) };
  return m[1] === undefined ? parsed : { ...parsed, signal: m[1] };
}

/** The JSON lines of a text. */
export function jsonLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
}

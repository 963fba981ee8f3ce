/**
 * A program that uses corral, bundled with esbuild. corral starts its threads from its
 * own files (`dist/workers/runtime.js`, found next to its code), and a task module shares
 * `corral/worker` with that runtime, so corral must stay outside the bundle: marked
 * external, it is loaded from node_modules at run time. The task module is its own entry
 * point, since the pool loads it by path. Runs the built package.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/index.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const MAIN = `
import { Pool } from 'corral';
const pool = new Pool({ module: new URL('./worker.js', import.meta.url), threads: 2 });
try {
  const sums = await Promise.all([1, 2, 3].map((n) => pool.do(n, { task: 'sum' })));
  const moved = (await pool.do(4, { task: 'bytes' })) as Uint8Array;
  process.stdout.write(JSON.stringify({ sums, moved: [...moved] }) + '\\n');
} finally {
  await pool.shutdown();
}
`;

const WORKER = `
import { transfer } from 'corral/worker';
export function sum(n: number): number {
  let total = 0;
  for (let i = 1; i <= n; i++) total += i;
  return total;
}
// A transfer from corral/worker, which stays outside the bundle with the rest of corral.
export function bytes(n: number) {
  const out = new Uint8Array(n).fill(7);
  return transfer(out, [out.buffer]);
}
`;

/** A project with main.ts and worker.ts, and corral installed (a link to this checkout). */
function project(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  writeFileSync(join(dir, 'main.ts'), MAIN);
  writeFileSync(join(dir, 'worker.ts'), WORKER);
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'corral'), 'dir');
  return dir;
}

async function bundle(dir: string, external: string[]): Promise<string> {
  const outdir = join(dir, 'dist');
  await build({
    entryPoints: [join(dir, 'main.ts'), join(dir, 'worker.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outdir,
    external,
    logLevel: 'silent',
  });
  return join(outdir, 'main.js');
}

describe('bundled with esbuild', () => {
  it('runs with corral marked external', async () => {
    const dir = project();
    const main = await bundle(dir, ['corral']);
    const { stdout } = await run(process.execPath, [main], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual({ sums: [1, 3, 6], moved: [7, 7, 7, 7] });
  });

  it('fails at run time with corral inside the bundle: its thread runtime is not there', async () => {
    const dir = project();
    const main = await bundle(dir, []);
    const failure = await run(process.execPath, [main], { cwd: dir }).then(
      () => undefined,
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect(failure?.code).not.toBe(0);
    // The runtime is looked for next to the bundle, where corral's own files would be.
    expect(failure?.stderr).toMatch(/Cannot find module '[^']*\/workers\/runtime\.js'/);
  });
});

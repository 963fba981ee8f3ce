/**
 * Task modules in TypeScript on Node 20: the threads register tsx (when the module's
 * project has it) before importing a `.ts` module; without tsx the pool fails with a
 * cause that says what to install. Runs the built package.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CorralError, Pool } from 'corral';
import { jsonLines, map } from '../helpers/cli-map.js';
import { fixture, tempDir } from '../helpers/index.js';

const run = promisify(execFile);
const TS_TASKS = fixture('ts-tasks.ts');
const TSX = fileURLToPath(new URL('../../node_modules/tsx', import.meta.url));

describe('TypeScript task modules', () => {
  it('a pool runs a .ts module that imports another .ts module and uses an enum', async () => {
    await using pool = new Pool({ module: TS_TASKS, threads: 2 });
    expect((await pool.tasks()).sort()).toEqual(['area', 'default', 'tries']);
    expect(await pool.do({ kind: 'square', side: 3 })).toBe('square: 9 m²');
    expect(await pool.do(null, { task: 'tries' })).toBe(1);
  });

  it('works under `node --import tsx main.ts`, a TypeScript program with a TypeScript task module', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture('ts-main.ts')]);
    expect(JSON.parse(stdout)).toEqual(['square: 1 m²', 'square: 4 m²', 'square: 9 m²']);
  });

  it('corral map runs a .ts module', async () => {
    const r = await map([TS_TASKS, '--ordered', '--threads', '1'], {
      stdin: '{"kind":"square","side":2}\n{"kind":"square","side":5}\n',
    });
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)).toEqual(['square: 4 m²', 'square: 25 m²']);
  });

  it.each([
    ['.mts', 'export function half(n: number): number {\n  return n / 2;\n}\n'],
    ['.cts', 'const half = (n: number): number => n / 2;\nexport = { half };\n'],
  ])(
    'runs a %s module, with the tsx of its own project (outside this repository)',
    async (extension, source) => {
      const dir = tempDir();
      writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(TSX, join(dir, 'node_modules', 'tsx'), 'dir');
      const module = join(dir, `tasks${extension}`);
      writeFileSync(module, source);
      await using pool = new Pool({ module, threads: 1 });
      expect(await pool.do(9, { task: 'half' })).toBe(4.5);
    },
  );

  it('without tsx in the module project, fails with ERR_MODULE_LOAD caused by ERR_TS_LOADER_MISSING', async () => {
    // A temporary directory has no node_modules above it with tsx in it.
    const dir = tempDir();
    for (const name of ['ts-tasks.ts', 'ts-helper.ts'])
      copyFileSync(fixture(name), join(dir, name));
    const pool = new Pool({ module: join(dir, 'ts-tasks.ts'), threads: 1 });
    const error = await pool.ready().then(
      () => undefined,
      (e: unknown) => e,
    );
    await pool.shutdown();
    expect(error).toBeInstanceOf(CorralError);
    expect(error).toMatchObject({
      code: 'ERR_MODULE_LOAD',
      cause: {
        code: 'ERR_TS_LOADER_MISSING',
        message: expect.stringContaining('npm install --save-dev tsx') as unknown,
        cause: { code: 'ERR_UNKNOWN_FILE_EXTENSION' },
      },
    });
  });
});

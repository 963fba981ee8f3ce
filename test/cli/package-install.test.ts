/**
 * The package as a user gets it: `npm pack`, then `npm install` of the tarball into a
 * fresh project (dependencies from the registry, the optional NATS peers left out). It
 * installs without running or warning about any script, runs a job, and its CLI reports
 * its version, runs the demo and says that `bench` needs a checkout; `corral/nats` names
 * the packages it lacks; the source maps point at shipped sources. Needs the build.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireBuild } from '../helpers/cli-map.js';
import { installPacked, sh, type Outcome } from '../helpers/sh.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
};

describe('the packed package, installed in a fresh project', () => {
  let project = '';
  let install: Outcome;
  const installed = (...parts: string[]): string =>
    join(project, 'node_modules', 'corral', ...parts);
  const corral = (...args: string[]): Promise<Outcome> =>
    sh(process.execPath, [join(project, 'node_modules', '.bin', 'corral'), ...args], project);

  beforeAll(async () => {
    requireBuild();
    // dist/ is built already, and rebuilding it here would pull it from under other tests.
    ({ project, install } = await installPacked(ROOT));
  }, 120_000);

  it('installs without running a script or warning about one', () => {
    expect(install.code).toBe(0);
    expect(`${install.stdout}${install.stderr}`).not.toMatch(/prepare|install-scripts/i);
    const manifest = JSON.parse(readFileSync(installed('package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      license: string;
    };
    expect(manifest.scripts.prepare).toBeUndefined();
    expect(manifest.license).toBe('MIT');
    expect(readFileSync(installed('LICENSE'), 'utf8')).toContain('corral contributors');
    // The optional NATS peers are not installed: the corral/nats test below relies on it.
    expect(existsSync(join(project, 'node_modules', '@nats-io'))).toBe(false);
  });

  it("ships what the README's relative links point at (docs/ and its pictures)", () => {
    const readme = readFileSync(installed('README.md'), 'utf8');
    const targets = [...readme.matchAll(/\]\((?!https?:|#)([^)#\s]+)/g)].map((m) => m[1] ?? '');
    expect(targets.filter((t) => t.startsWith('docs/')).length).toBeGreaterThan(5);
    const missing = targets.filter((t) => !existsSync(installed(decodeURIComponent(t))));
    expect(missing).toEqual([]);
  });

  it('runs a job on a pool', async () => {
    writeFileSync(join(project, 'worker.js'), 'export const triple = (n) => n * 3;\n');
    writeFileSync(
      join(project, 'main.js'),
      "import { Pool } from 'corral';\n" +
        "const pool = new Pool({ module: new URL('./worker.js', import.meta.url), threads: 1 });\n" +
        "try { console.log(await pool.do(14, { task: 'triple' })); } finally { await pool.shutdown(); }\n",
    );
    const r = await sh(process.execPath, ['main.js'], project);
    expect(r).toMatchObject({ code: 0, stdout: '42\n' });
  });

  it('corral --version prints the version from package.json', async () => {
    expect(await corral('--version')).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('corral demo runs from the installed package', async () => {
    const r = await corral('demo', '--records', '40', '--rounds', '2');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/results identical: true/);
  });

  it('corral bench says it needs a checkout', async () => {
    const r = await corral('bench', '--quick');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs a checkout of corral's repository/);
  });

  it("import 'corral/nats' without the NATS packages names them", async () => {
    const script =
      "import('corral/nats').then(() => console.log('loaded'), (e) => " +
      'console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })));';
    const r = await sh(process.execPath, ['--input-type=module', '-e', script], project);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      name: 'NatsClientMissingError',
      code: 'ERR_NATS_CLIENT_MISSING',
      message: expect.stringContaining(
        'npm install @nats-io/transport-node @nats-io/jetstream',
      ) as unknown,
    });
  });

  it('ships the sources its source maps and declaration maps point at', () => {
    for (const map of ['dist/src/index.js.map', 'dist/src/index.d.ts.map']) {
      const { sources } = JSON.parse(readFileSync(installed(map), 'utf8')) as {
        sources: string[];
      };
      expect(sources.length).toBeGreaterThan(0);
      for (const source of sources) {
        expect(existsSync(resolve(dirname(installed(map)), source))).toBe(true);
      }
    }
  });
});

it("corral/nats's entry exports every value that src/nats/index.ts exports, and only those", async () => {
  const entry: Record<string, unknown> = { ...(await import('corral/nats')) };
  const index: Record<string, unknown> = { ...(await import('../../dist/src/nats/index.js')) };
  expect(Object.keys(entry).sort()).toEqual(Object.keys(index).sort());
  // The same objects, whether entry.ts re-exports them statically or loads them.
  for (const [name, value] of Object.entries(index)) expect(entry[name], name).toBe(value);
});

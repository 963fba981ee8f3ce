/**
 * The main-job demo (`node dist/src/cli/demo-map.js`), small: it runs `corral map` with
 * 1 thread and with every core, and both runs write the same results. Needs the build.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { CLI, requireBuild } from './cli-map-helpers.js';

const DEMO = fileURLToPath(new URL('../dist/src/cli/demo-map.js', import.meta.url));

beforeAll(requireBuild);

it('maps generated records on 1 thread and on every core, with identical results', async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [DEMO, '300', '20'], {
    env: { ...process.env, CORRAL_CLI: CLI },
  });
  expect(stdout).toMatch(/corral map demo: 300 records x 20 SHA-256 rounds, \d+ cores/);
  expect(stdout).toMatch(
    /\$ corral map .*hash\.js .* --task sha256 --ordered --threads 1 --output /,
  );
  expect(stdout).toMatch(/speedup [\d.]+x; results identical: true/);
  expect(stderr.match(/corral map: 300 records, 0 failed/g)).toHaveLength(2);
});

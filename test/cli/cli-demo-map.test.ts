/**
 * The main-job demo (`corral demo`, what `npm run demo` runs), small: it runs `corral map`
 * with 1 thread and with every core, and both runs write the same results. Needs the build.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { CLI, requireBuild } from '../helpers/cli-map.js';

beforeAll(requireBuild);

it('maps generated records on 1 thread and on every core, with identical results', async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [
    CLI,
    'demo',
    '--records',
    '300',
    '--rounds',
    '20',
  ]);
  expect(stdout).toMatch(/corral map demo: 300 records x 20 SHA-256 rounds, \d+ cores/);
  expect(stdout).toMatch(
    /\$ corral map .*hash\.js .* --task sha256 --ordered --threads 1 --output /,
  );
  expect(stdout).toMatch(/speedup [\d.]+x; results identical: true/);
  expect(stderr.match(/corral map: 300 records, 0 failed/g)).toHaveLength(2);
});

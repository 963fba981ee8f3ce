/**
 * `corral governor run` argument checks that need no NATS server (the runs themselves are
 * in test/nats/governor/governor-cli.test.ts). Needs the build (dist/).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { CLI, requireBuild } from '../helpers/cli-map.js';

beforeAll(requireBuild);

it('refuses a --max-wait longer than a timer can wait, before connecting', async () => {
  const failure = await promisify(execFile)(process.execPath, [
    CLI,
    'governor',
    'run',
    'g',
    '--server',
    'nats://127.0.0.1:1',
    '--max-wait',
    '30d',
    '--',
    'true',
  ]).then(
    () => undefined,
    (e: unknown) => e as { code: number; stderr: string },
  );
  expect(failure?.code).toBe(1);
  expect(failure?.stderr).toContain('--max-wait must be under 24.8 days');
  expect(failure?.stderr).not.toContain('could not connect');
});

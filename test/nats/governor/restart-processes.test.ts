/**
 * Issue 12, item 9: slots survive a nats-server restart shorter than about a third of
 * maxAge. Separate `corral governor run` processes (the built CLI) run a command that logs to
 * an append-only file when it starts and ends (test/fixtures/nats-observed-command.mjs);
 * the server is stopped for 2 s and started again on the same port and store while some
 * hold slots and the others campaign. No process may lose its slot (it would exit 1 or 143,
 * and say so), and the log may never show more holders than the limit.
 * Needs the build (dist/).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GovernorManager } from '#internal/nats/index.js';
import { maxConcurrent, parseLog } from '../../helpers/nats-observer.js';
import { uniqueName, useNatsServer, waitFor, watchPublished } from '../../helpers/nats-setup.js';

const nats = useNatsServer();
const CLI = new URL('../../../dist/src/cli/main.js', import.meta.url).pathname;
const COMMAND = new URL('../../fixtures/nats-observed-command.mjs', import.meta.url).pathname;

let dir = '';
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  dir = await mkdtemp(join(tmpdir(), 'corral-restart-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Exit {
  readonly name: string;
  readonly code: number | null;
  readonly stderr: string;
}

/** `corral governor run <governor> -- node nats-observed-command.mjs <log> <hold>`. */
function runUnderGovernor(governor: string, name: string, log: string, hold: number) {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'governor',
      'run',
      governor,
      '--name',
      name,
      '--',
      process.execPath,
      COMMAND,
      log,
      String(hold),
    ],
    { env: { ...process.env, NATS_URL: nats.server.url }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<Exit>((resolve) =>
    child.once('exit', (code) => {
      resolve({ name, code, stderr });
    }),
  );
}

describe('corral governor run across a nats-server restart', () => {
  it('24 processes, limit 8, maxAge 6s, holding 6.5s, server down 2s: nobody loses a slot, never more than 8 at once', async () => {
    const governor = uniqueName('restart');
    const limit = 8;
    const maxAge = 6000;
    await GovernorManager.create(nats.nc, governor, { limit, maxAge });
    const logFile = join(dir, `${governor}.log`);
    await writeFile(logFile, '');
    const tries = await watchPublished(nats.nc, `corral.governor.${governor}.*`);
    const runs = Array.from({ length: 24 }, (_, i) =>
      runUnderGovernor(governor, `p${i}`, logFile, 6500),
    );
    // Every slot held, and the others waiting: then take the server away for 2 s.
    const starts = async (): Promise<number> =>
      (await readFile(logFile, 'utf8')).split('\n').filter((l) => l.endsWith('+1')).length;
    await waitFor(async () => (await starts()) >= limit, 120_000);
    // One subject per campaign: every process has campaigned (the late ones, too).
    await waitFor(() => tries.bySubject.size >= runs.length, 120_000);
    tries.stop();
    const stopped = process.hrtime.bigint();
    await nats.server.restart(2000);
    const restarted = process.hrtime.bigint();

    const exits = await Promise.all(runs);
    const failed = exits.filter((e) => e.code !== 0);
    expect(
      failed.map((e) => `${e.name}: exit ${e.code}: ${e.stderr.trim()}`),
      `${failed.length} of ${exits.length} lost their slot or failed`,
    ).toEqual([]);
    const log = await readFile(logFile, 'utf8');
    const observed = maxConcurrent(log);
    expect(observed).toMatchObject({ enters: 24, leaves: 24 });
    expect(observed.max).toBeLessThanOrEqual(limit);
    // The outage fell where it hurts: slots held through it, and waiters granted after it.
    const events = parseLog(log);
    const heldBefore = events.filter((e) => e.delta === 1 && e.time < stopped).length;
    const leftBefore = events.filter((e) => e.delta === -1 && e.time < restarted).length;
    expect(heldBefore - leftBefore).toBeGreaterThan(0);
    expect(events.filter((e) => e.delta === 1 && e.time > restarted).length).toBeGreaterThan(0);
  }, 300_000);
});

/**
 * Max per period (issue 14; choria's `WithoutLeavingOnCompletion`): with
 * `leaveOnFinish: false` a finished slot's entry is left to expire, so at most `limit` runs
 * start in any `maxAge` window. Checked from outside: separate campaigner processes log
 * `<hrtime> +1` when granted to one append-only file, and the test counts the starts in
 * every window. Needs the build (dist/).
 *
 * The window counted is `maxAge` less a second: a `+1` line is written a little after the
 * server stored its entry, and that delay differs from process to process.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Governor, GovernorManager } from '#internal/nats/index.js';
import { campaigner, type CampaignerMode } from '../../helpers/nats-campaigner.js';
import { maxConcurrent, maxStartsPerWindow } from '../../helpers/nats-observer.js';
import { uniqueName, useNatsServer, waitFor, watchPublished } from '../../helpers/nats-setup.js';

const nats = useNatsServer();
const BUILT = new URL('../../../dist/src/nats/index.js', import.meta.url).pathname;

let dir = '';
beforeAll(async () => {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` first`);
  dir = await mkdtemp(join(tmpdir(), 'corral-max-per-period-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const LIMIT = 3;
const MAX_AGE = 4000;
const PROCESSES = 12;

/**
 * Fills the governor, starts the campaigners, and once every one of them is campaigning
 * frees the slots, so they all compete from the same moment. Returns the log.
 */
async function runAll(mode: CampaignerMode): Promise<string> {
  const governor = uniqueName('period');
  await GovernorManager.create(nats.nc, governor, { limit: LIMIT, maxAge: MAX_AGE });
  const log = join(dir, `${governor}.log`);
  await writeFile(log, '');
  const filler = new Governor(nats.nc, governor);
  const tries = await watchPublished(nats.nc, `corral.governor.${governor}.*`);
  const held = await Promise.all(Array.from({ length: LIMIT }, () => filler.start()));
  const fillers = new Set(tries.bySubject.keys());
  const children = Array.from({ length: PROCESSES }, () =>
    campaigner(nats.server.url, governor, log, 100, mode),
  );
  await Promise.all(children.map((c) => c.campaigning));
  // Each campaign has tried, been refused and tried again.
  const retried = (): number =>
    [...tries.bySubject].filter(([subject, n]) => !fillers.has(subject) && n >= 2).length;
  await waitFor(() => retried() >= PROCESSES, 30_000);
  tries.stop();
  await Promise.all(held.map((slot) => slot.finish()));
  const results = await Promise.all(children.map((c) => c.exited));
  for (const result of results) expect(result, result.output).toMatchObject({ code: 0 });
  return readFile(log, 'utf8');
}

describe('max per period (leaveOnFinish: false) across OS processes', () => {
  it('the observer counts starts per window (and so can fail)', () => {
    const log = ['0 +1', '1000000 -1', '500000000 +1', '900000000 +1', '2000000000 +1'];
    expect(maxStartsPerWindow(log.join('\n'), 1000)).toBe(3);
    expect(maxStartsPerWindow(log.join('\n'), 400)).toBe(2);
    expect(maxStartsPerWindow(log.join('\n'), 1)).toBe(1);
  });

  it(`${PROCESSES} processes, limit ${LIMIT}, maxAge 4s: never more than ${LIMIT} starts in a window`, async () => {
    const log = await runAll('max-per-period');
    expect(maxConcurrent(log)).toMatchObject({ enters: PROCESSES, leaves: PROCESSES });
    expect(maxStartsPerWindow(log, MAX_AGE - 1000)).toBeLessThanOrEqual(LIMIT);
  }, 180_000);

  it('negative control: the same run leaving on finish starts more in a window, and the observer sees it', async () => {
    const log = await runAll('fast');
    expect(maxConcurrent(log)).toMatchObject({ enters: PROCESSES, leaves: PROCESSES });
    expect(maxConcurrent(log).max).toBeLessThanOrEqual(LIMIT);
    expect(maxStartsPerWindow(log, MAX_AGE - 1000)).toBeGreaterThan(LIMIT);
  }, 180_000);
});

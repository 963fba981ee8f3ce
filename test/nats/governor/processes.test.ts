/**
 * The governor across real OS processes, checked from outside: each process appends
 * `<hrtime> +1` once it holds a slot and `<hrtime> -1` before it gives it back, to one
 * append-only log; the most lines "in" at any instant is how many held a slot at once.
 * The server's own count is not evidence. Needs the build (dist/).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Governor, GovernorManager } from '#internal/nats/index.js';
import { campaigner } from '../../helpers/nats-campaigner.js';
import { maxConcurrent } from '../../helpers/nats-observer.js';
import { uniqueName, useNatsServer } from '../../helpers/nats-setup.js';

const nats = useNatsServer();
const BUILT = new URL('../../../dist/src/nats/index.js', import.meta.url).pathname;

let dir = '';
beforeAll(async () => {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` first`);
  dir = await mkdtemp(join(tmpdir(), 'corral-governor-log-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function campaign(
  processes: number,
  config: { limit: number; maxAge: number },
  holdMs: number,
  mode: 'refresh' | 'no-refresh',
): Promise<{ max: number; enters: number; leaves: number }> {
  const governor = uniqueName('procs');
  await GovernorManager.create(nats.nc, governor, config);
  const log = join(dir, `${governor}.log`);
  await writeFile(log, '');
  const children = Array.from({ length: processes }, () =>
    campaigner(nats.server.url, governor, log, holdMs, mode),
  );
  const results = await Promise.all(children.map((c) => c.exited));
  for (const result of results) expect(result, result.output).toMatchObject({ code: 0 });
  return maxConcurrent(await readFile(log, 'utf8'));
}

describe('across OS processes', () => {
  it('the observer counts overlaps (and so can fail)', () => {
    expect(maxConcurrent('1 +1\n5 -1\n2 +1\n3 +1\n4 -1\n6 -1\n')).toMatchObject({ max: 3 });
    expect(maxConcurrent('1 +1\n2 -1\n2 +1\n3 -1\n')).toMatchObject({ max: 2 }); // ties count as overlap
  });

  it('40 processes never hold more than 3 slots of a limit-3 governor at once', async () => {
    const started = Date.now();
    const result = await campaign(40, { limit: 3, maxAge: 30_000 }, 100, 'refresh');
    expect(result).toMatchObject({ enters: 40, leaves: 40 });
    expect(result.max).toBeLessThanOrEqual(3);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);

  it('work longer than maxAge stays within the limit because slots refresh', async () => {
    const result = await campaign(6, { limit: 3, maxAge: 1000 }, 2500, 'refresh');
    expect(result).toMatchObject({ enters: 6, leaves: 6 });
    expect(result.max).toBeLessThanOrEqual(3);
  }, 60_000);

  it('negative control: the same run without refresh breaks the limit, and the observer sees it', async () => {
    const result = await campaign(6, { limit: 3, maxAge: 1000 }, 2500, 'no-refresh');
    expect(result.enters).toBe(6);
    expect(result.max).toBeGreaterThan(3);
  }, 60_000);

  it("a SIGKILLed holder's slot is free again after about maxAge", async () => {
    const governor = uniqueName('killed');
    const maxAge = 3000;
    const manager = await GovernorManager.create(nats.nc, governor, { limit: 1, maxAge });
    const log = join(dir, `${governor}.log`);
    const holder = campaigner(nats.server.url, governor, log, 600_000, 'refresh');
    await holder.granted;
    holder.kill('SIGKILL');
    const killedAt = Date.now();
    await holder.exited;
    expect(await manager.active()).toBe(1); // nobody told JetStream
    const slot = await new Governor(nats.nc, governor, {
      retryInterval: 50,
      maxRetryInterval: 200,
    }).start({
      signal: AbortSignal.timeout(maxAge + 10_000),
    });
    const freedAfter = Date.now() - killedAt;
    expect(freedAfter).toBeGreaterThan(maxAge / 2);
    expect(freedAfter).toBeLessThan(maxAge + 5000);
    await slot.finish();
  }, 30_000);
});

/**
 * A nats-server restart in the middle of things. File storage keeps the entries; campaigns
 * that were waiting either get a slot or fail clearly, and no entry is left behind; a held
 * slot whose refresh falls in the outage keeps its entry. (Many processes across a restart:
 * restart-processes.test.ts.)
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { CampaignAbortedError, Governor, GovernorManager } from '#internal/nats/index.js';
import { storedEntries, uniqueName, useNatsServer, waitFor } from '../../helpers/nats-setup.js';

const nats = useNatsServer();

/** Options for connections that must ride out the restart. */
const RECONNECTING = { maxReconnectAttempts: -1, reconnectTimeWait: 100 } as const;

/** Resolves at the connection's next successful reconnection. */
function reconnected(nc: NatsConnection): Promise<void> {
  return (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'reconnect') return;
    }
  })();
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('across a nats-server restart', () => {
  it('a held slot whose refresh falls in a 2 s outage keeps its entry (maxAge 6 s)', async () => {
    const name = uniqueName('refresh');
    await GovernorManager.create(nats.nc, name, { limit: 1, maxAge: 6000 });
    const nc = await nats.connect(RECONNECTING);
    const slot = await new Governor(nc, name).start({ name: 'through the outage' });
    const grantedAt = Date.now();
    // The refresh due 2 s after the grant is sent while the server is down.
    await sleep(1500);
    const back = reconnected(nc);
    await nats.server.restart(2000);
    await back;
    // Past the moment the entry expires unless a refresh landed.
    await sleep(Math.max(0, grantedAt + 7000 - Date.now()));
    expect(slot.signal.aborted, String(slot.signal.reason)).toBe(false);
    const manager = await GovernorManager.open(await nats.connect(), name);
    expect(await manager.entries()).toMatchObject([{ name: 'through the outage' }]);
    await slot.finish();
    expect(await manager.active()).toBe(0);
  }, 60_000);

  it('keeps held slots (file storage), and a waiting campaign ends with a slot and no ghosts', async () => {
    const name = uniqueName('restart');
    await GovernorManager.create(nats.nc, name, { limit: 1, maxAge: 30_000 });
    const ncA = await nats.connect(RECONNECTING);
    const ncB = await nats.connect(RECONNECTING);
    const options = { retryInterval: 50, maxRetryInterval: 300, timeout: 1000 };
    const holder = await new Governor(ncA, name, options).start({ name: 'holder' });
    let waiterSeq = 0;
    const waiting = new Governor(ncB, name, options)
      .start({ name: 'waiter', signal: AbortSignal.timeout(25_000) })
      .then((slot) => {
        waiterSeq = slot.seq;
        return slot;
      });
    await new Promise((resolve) => setTimeout(resolve, 300));

    const backA = reconnected(ncA);
    const backB = reconnected(ncB);
    await nats.server.stop();
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the waiter keeps trying
    await nats.server.start();
    await Promise.all([backA, backB]);

    const manager = await GovernorManager.open(await nats.connect(), name);
    expect(await manager.entries()).toMatchObject([{ seq: holder.seq, name: 'holder' }]);
    expect(waiterSeq).toBe(0);

    await holder.finish();
    const slot = await waiting;
    expect((await storedEntries(ncB, name)).map((m) => m.seq)).toEqual([slot.seq]);
    await slot.finish();
    expect(await storedEntries(ncB, name)).toEqual([]);
  }, 60_000);

  it('a campaign that cannot reach the server ends with a clear error and leaves no entry', async () => {
    const name = uniqueName('outage');
    const nc = await nats.connect(RECONNECTING);
    await GovernorManager.create(nc, name, { limit: 2, maxAge: 30_000 });
    const governor = new Governor(nc, name, { retryInterval: 50, timeout: 500 });
    const back = reconnected(nc);
    await nats.server.stop();
    const error: unknown = await governor
      .start({ name: 'stranded', signal: AbortSignal.timeout(2000) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CampaignAbortedError);
    expect(error).toMatchObject({ code: 'ABORT_ERR' });
    await nats.server.start();
    await back;
    // Give a publish buffered during the outage every chance to land before looking.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await waitFor(async () => (await storedEntries(nc, name)).length === 0, 5000);
    expect(await storedEntries(nc, name)).toEqual([]);
  }, 60_000);
});

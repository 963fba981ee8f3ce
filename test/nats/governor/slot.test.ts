/**
 * Holding a slot: refreshing keeps work longer than maxAge inside the limit, and a holder
 * whose entry disappears (expired, evicted, trimmed by a forced limit change, reset,
 * removed governor) is told through its signal and its finish().
 */
import { describe, expect, it } from 'vitest';
import {
  Governor,
  GovernorManager,
  GovernorSlotLostError,
  type GovernorOptions,
} from '#internal/nats/index.js';
import { storedEntries, uniqueName, useNatsServer, waitFor } from '../../helpers/nats-setup.js';

const nats = useNatsServer();

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function setUp(
  limit: number,
  maxAge: number,
  options: GovernorOptions = {},
): Promise<{ governor: Governor; manager: GovernorManager; name: string }> {
  const name = uniqueName();
  const manager = await GovernorManager.create(nats.nc, name, { limit, maxAge });
  const governor = new Governor(nats.nc, name, {
    retryInterval: 20,
    maxRetryInterval: 100,
    ...options,
  });
  return { governor, manager, name };
}

function lostReason(signal: AbortSignal): unknown {
  return signal.reason;
}

describe('a held slot', () => {
  it('keeps work that outlasts maxAge inside the limit by refreshing its entry', async () => {
    const { governor, manager } = await setUp(1, 1500);
    const slot = await governor.start({ name: 'long job' });
    const firstSeq = slot.seq;
    // A competitor waits through more than two maxAges and never gets in.
    const competitor = governor.start({ name: 'competitor', signal: AbortSignal.timeout(3500) });
    await expect(competitor).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(slot.signal.aborted).toBe(false);
    expect(await manager.active()).toBe(1);
    expect(slot.seq).toBeGreaterThan(firstSeq);
    const entries = await manager.entries();
    expect(entries).toHaveLength(1);
    const [entry] = entries;
    expect(entry?.name).toBe('long job');
    expect(entry?.age).toBeGreaterThan(3000); // counted from the grant, across refreshes
    await slot.finish();
    expect(await manager.active()).toBe(0);
  });

  it('without refresh, loses its entry after maxAge and says so (the limit is then broken)', async () => {
    const { governor } = await setUp(1, 1000, { refreshInterval: false });
    const slot = await governor.start({ name: 'no refresh' });
    await waitFor(() => slot.signal.aborted, 5000);
    expect(lostReason(slot.signal)).toBeInstanceOf(GovernorSlotLostError);
    expect(lostReason(slot.signal)).toMatchObject({ code: 'ERR_GOVERNOR_SLOT_LOST' });
    // Someone else gets in while the first holder may still be working: why refresh exists.
    const other = await governor.start({ signal: AbortSignal.timeout(5000) });
    await expect(slot.finish()).rejects.toMatchObject({ code: 'ERR_GOVERNOR_SLOT_LOST' });
    await other.finish();
  });

  it('is told when evicted: its signal aborts and finish() rejects', async () => {
    const { governor, manager } = await setUp(2, 3000, { refreshInterval: 200 });
    const slot = await governor.start({ name: 'evictee' });
    const evicted = await manager.evict(slot.seq);
    expect(evicted).toMatchObject({ seq: slot.seq, name: 'evictee' });
    await waitFor(() => slot.signal.aborted, 5000);
    expect(lostReason(slot.signal)).toMatchObject({ code: 'ERR_GOVERNOR_SLOT_LOST' });
    expect(String(lostReason(slot.signal))).toMatch(/removed/);
    await expect(slot.finish()).rejects.toMatchObject({ code: 'ERR_GOVERNOR_SLOT_LOST' });
  });

  it('run() aborts the signal of fn when the slot is lost, and rejects with the loss', async () => {
    const { governor, manager } = await setUp(1, 3000, { refreshInterval: 200 });
    const running = governor.run('victim', async (signal) => {
      const [entry] = await manager.entries();
      if (entry !== undefined) await manager.evict(entry.seq);
      await new Promise((resolve) => {
        signal.addEventListener('abort', resolve, { once: true });
      });
      expect(signal.reason).toMatchObject({ code: 'ERR_GOVERNOR_SLOT_LOST' });
      return 'finished anyway';
    });
    await expect(running).rejects.toMatchObject({ code: 'ERR_GOVERNOR_SLOT_LOST' });
  });

  it('is told when a forced lower limit trims it; an unforced one is refused', async () => {
    const { governor, manager } = await setUp(3, 3000, { refreshInterval: 200 });
    const slots = [
      await governor.start({ name: 'a' }),
      await governor.start({ name: 'b' }),
      await governor.start({ name: 'c' }),
    ];
    await expect(manager.setLimit(1)).rejects.toMatchObject({
      code: 'ERR_GOVERNOR_LIMIT_BELOW_ACTIVE',
      limit: 1,
      active: 3,
    });
    expect((await manager.info()).limit).toBe(3);
    await manager.setLimit(1, { force: true });
    expect(await manager.active()).toBe(1);
    await waitFor(() => slots.filter((s) => s.signal.aborted).length === 2, 5000);
    const kept = slots.filter((s) => !s.signal.aborted);
    expect(kept).toHaveLength(1);
    await sleep(500); // several refresh periods: the survivor stays
    expect(kept[0]?.signal.aborted).toBe(false);
    for (const slot of slots) {
      if (slot.signal.aborted) {
        await expect(slot.finish()).rejects.toMatchObject({ code: 'ERR_GOVERNOR_SLOT_LOST' });
      } else {
        await slot.finish();
      }
    }
    expect(await manager.active()).toBe(0);
  });

  it('is told when the governor is reset or removed', async () => {
    const { governor, manager } = await setUp(2, 3000, { refreshInterval: 200 });
    const first = await governor.start();
    expect(await manager.reset()).toBe(1);
    await waitFor(() => first.signal.aborted, 5000);
    const second = await governor.start();
    await manager.remove();
    await waitFor(() => second.signal.aborted, 5000);
    expect(String(lostReason(second.signal))).toMatch(/governor was removed/);
    await expect(second.finish()).rejects.toMatchObject({ code: 'ERR_GOVERNOR_SLOT_LOST' });
  });

  it('never leaves an entry behind when finish() races a refresh', async () => {
    const { governor, name } = await setUp(1, 1000, { refreshInterval: 1 });
    for (let i = 0; i < 20; i++) {
      const slot = await governor.start({ signal: AbortSignal.timeout(5000) });
      await sleep(Math.random() * 20);
      await slot.finish();
      expect(slot.signal.aborted).toBe(false);
      expect(await storedEntries(nats.nc, name)).toHaveLength(0);
    }
  });
});

/**
 * Campaigning for slots: grants, waiting, aborting, unknown governors, idempotent finish,
 * and message ids that make a lost reply harmless.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { TimeoutError, type NatsConnection } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import {
  CampaignAbortedError,
  Governor,
  GovernorManager,
  type GovernorConfig,
  type GovernorOptions,
} from '#internal/nats/index.js';
import {
  storedEntries,
  uniqueName,
  useNatsServer,
  waitFor,
  watchPublished,
} from '../../helpers/nats-setup.js';

const nats = useNatsServer();

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function governorOf(config: GovernorConfig, name = uniqueName()): Promise<Governor> {
  await GovernorManager.create(nats.nc, name, config);
  return new Governor(nats.nc, name, { retryInterval: 20, maxRetryInterval: 100 });
}

/**
 * The connection, except that the reply to the first request on a governor subject is
 * thrown away after the server handled it: a lost publish reply.
 */
function losingFirstReply(nc: NatsConnection): NatsConnection & { dropped: number } {
  let dropped = 0;
  const proxy = new Proxy(nc, {
    get(target, property) {
      if (property === 'dropped') return dropped;
      if (property === 'request') {
        return async (...args: Parameters<NatsConnection['request']>) => {
          const reply = await target.request(...args);
          if (args[0].startsWith('corral.governor.') && dropped === 0) {
            dropped += 1;
            throw new TimeoutError();
          }
          return reply;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return proxy as NatsConnection & { dropped: number };
}

/**
 * Like {@link losingFirstReply}, and the entry that first publish stored is deleted before
 * the retry: the server then answers the retry "duplicate" with a sequence that is gone.
 */
function losingFirstReplyAndEntry(nc: NatsConnection, governor: string): NatsConnection {
  let dropped = false;
  return new Proxy(nc, {
    get(target, property) {
      if (property === 'request') {
        return async (...args: Parameters<NatsConnection['request']>) => {
          const reply = await target.request(...args);
          if (args[0].startsWith('corral.governor.') && !dropped) {
            dropped = true;
            const { seq } = reply.json<{ seq: number }>();
            const jsm = await jetstreamManager(target, { checkAPI: false });
            await jsm.streams.deleteMessage(`GOVERNOR_${governor}`, seq, false);
            throw new TimeoutError();
          }
          return reply;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
}

/**
 * The connection, except that the reply to the first request on a governor subject comes
 * back as a timeout `delay` ms after the server stored the entry: a reply lost in an outage
 * that lasted longer than the governor's maxAge.
 */
function replyingLate(nc: NatsConnection, delay: number): NatsConnection {
  let late = false;
  return new Proxy(nc, {
    get(target, property) {
      if (property === 'request') {
        return async (...args: Parameters<NatsConnection['request']>) => {
          const reply = await target.request(...args);
          if (args[0].startsWith('corral.governor.') && !late) {
            late = true;
            await sleep(delay);
            throw new TimeoutError();
          }
          return reply;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
}

describe('Governor', () => {
  it('grants a slot, counts it, and frees it on finish', async () => {
    const name = uniqueName();
    const governor = await governorOf({ limit: 2, maxAge: 60_000 }, name);
    const manager = await GovernorManager.open(nats.nc, name);
    const slot = await governor.start({ name: 'worker-a' });
    expect(slot.seq).toBeGreaterThan(0);
    expect(slot.signal.aborted).toBe(false);
    expect(await manager.active()).toBe(1);
    const [entry] = await manager.entries();
    expect(entry).toMatchObject({ seq: slot.seq, name: 'worker-a' });
    await slot.finish();
    expect(await manager.active()).toBe(0);
  });

  it('makes a campaign wait while the governor is full, and grants it when a slot frees', async () => {
    const name = uniqueName();
    const governor = await governorOf({ limit: 1, maxAge: 60_000 }, name);
    const first = await governor.start({ name: 'first' });
    const tries = await watchPublished(nats.nc, `corral.governor.${name}.*`);
    let granted = false;
    const second = governor.start({ name: 'second' }).then((slot) => {
      granted = true;
      return slot;
    });
    // Refused, and tried again (the first's refreshes are 20 s away).
    await waitFor(() => tries.count() >= 2);
    tries.stop();
    expect(granted).toBe(false);
    await first.finish();
    const slot = await second;
    expect(slot.seq).toBeGreaterThan(first.seq);
    await slot.finish();
  });

  it('says "unknown governor" for a governor that does not exist', async () => {
    const governor = new Governor(nats.nc, uniqueName('missing'));
    await expect(governor.start()).rejects.toMatchObject({ code: 'ERR_UNKNOWN_GOVERNOR' });
    await expect(governor.run('x', () => 1)).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_GOVERNOR',
    });
    // What raw JetStream says instead, which is why the governor checks:
    const js = jetstream(nats.nc);
    await expect(js.publish('corral.governor.nobody.x', 'x')).rejects.toThrow(
      /jetstream is not enabled/,
    );
  });

  it('makes finish() idempotent: one removal, the same promise every time', async () => {
    const name = uniqueName();
    const governor = await governorOf({ limit: 2, maxAge: 60_000 }, name);
    const slot = await governor.start();
    const other = await governor.start();
    const first = slot.finish();
    expect(slot.finish()).toBe(first);
    await first;
    await slot.finish();
    await expect(slot.finish()).resolves.toBeUndefined();
    const entries = await storedEntries(nats.nc, name);
    expect(entries.map((m) => m.seq)).toEqual([other.seq]);
    await other.finish();
  });

  it('gives up a waiting campaign when its signal aborts, leaving no entry', async () => {
    const name = uniqueName();
    const governor = await governorOf({ limit: 1, maxAge: 60_000 }, name);
    const holder = await governor.start({ name: 'holder' });
    const controller = new AbortController();
    const waiting = governor.start({ name: 'waiter', signal: controller.signal });
    setTimeout(() => {
      controller.abort(new Error('no more waiting'));
    }, 200);
    const error: unknown = await waiting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CampaignAbortedError);
    expect(error).toMatchObject({ code: 'ABORT_ERR', name: 'AbortError' });
    expect((error as Error).cause).toEqual(new Error('no more waiting'));
    await expect(governor.start({ signal: AbortSignal.abort('already') })).rejects.toMatchObject({
      code: 'ABORT_ERR',
    });
    const entries = await storedEntries(nats.nc, name);
    expect(entries.map((m) => m.seq)).toEqual([holder.seq]);
    await holder.finish();
  });

  it('uses a fresh message id for every campaign, never one already spent', async () => {
    const name = uniqueName();
    const governor = await governorOf({ limit: 3, maxAge: 60_000 }, name);
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const slot = await governor.start();
      const [entry] = await storedEntries(nats.nc, name);
      const id = entry?.header.get('Nats-Msg-Id') ?? '';
      expect(id).not.toBe('');
      ids.add(id);
      await slot.finish();
    }
    expect(ids.size).toBe(3);
  });

  it('answers a repeated message id as a duplicate: one entry, even when the stream is full', async () => {
    const name = uniqueName();
    await GovernorManager.create(nats.nc, name, { limit: 1, maxAge: 60_000 });
    const js = jetstream(nats.nc);
    const subject = `corral.governor.${name}.campaign`;
    const first = await js.publish(subject, 'w', { msgID: 'campaign-1' });
    const again = await js.publish(subject, 'w', { msgID: 'campaign-1' });
    expect(again).toMatchObject({ seq: first.seq, duplicate: true });
    expect(await storedEntries(nats.nc, name)).toHaveLength(1);
  });

  it('retries a campaign whose reply was lost without leaving an orphan entry', async () => {
    const name = uniqueName();
    await GovernorManager.create(nats.nc, name, { limit: 2, maxAge: 60_000 });
    const lossy = losingFirstReply(nats.nc);
    const governor = new Governor(lossy, name, { retryInterval: 20 });
    const slot = await governor.start({ name: 'unlucky' });
    expect(lossy.dropped).toBe(1);
    const entries = await storedEntries(nats.nc, name);
    expect(entries.map((m) => m.seq)).toEqual([slot.seq]);
    await slot.finish();
    expect(await storedEntries(nats.nc, name)).toHaveLength(0);
  });

  it('does not trust a duplicate answer whose entry is gone: it campaigns again with a new id', async () => {
    const name = uniqueName();
    await GovernorManager.create(nats.nc, name, { limit: 2, maxAge: 60_000 });
    const governor = new Governor(losingFirstReplyAndEntry(nats.nc, name), name, {
      retryInterval: 20,
    });
    const slot = await governor.start({ name: 'twice unlucky' });
    const entries = await storedEntries(nats.nc, name);
    expect(entries.map((m) => m.seq)).toEqual([slot.seq]);
    expect(entries[0]?.header.get('Nats-Msg-Id')).toMatch(/\.1$/); // the second id of the campaign
    await slot.finish();
  });

  it('never hands out a slot born expired: its age starts at a write whose reply came back', async () => {
    const name = uniqueName();
    await GovernorManager.create(nats.nc, name, { limit: 2, maxAge: 2000 });
    // The first try is stored, but its reply only comes (as a timeout) after maxAge.
    const governor = new Governor(replyingLate(nats.nc, 2500), name, { retryInterval: 20 });
    const slot = await governor.start({ name: 'late' });
    await sleep(300);
    expect(slot.signal.aborted, String(slot.signal.reason)).toBe(false);
    expect((await storedEntries(nats.nc, name)).map((m) => m.seq)).toEqual([slot.seq]);
    await slot.finish();
    expect(await storedEntries(nats.nc, name)).toEqual([]);
  });

  it('refuses a reply timeout too long for the governor maxAge; the default fits it', async () => {
    const name = uniqueName();
    await GovernorManager.create(nats.nc, name, { limit: 1, maxAge: 6000 });
    // A refresh falls due 2 s after a write and must land within 4 s: two tries of 2 s.
    const tooLong = new Governor(nats.nc, name, { timeout: 5000 }).start();
    await expect(tooLong).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(tooLong).rejects.toThrow(/option 'timeout' must be at most 2000 ms/);
    expect(await storedEntries(nats.nc, name)).toEqual([]);
    for (const options of [
      {},
      { timeout: 2000 },
      { timeout: 5000, refreshInterval: false as const },
    ]) {
      const slot = await new Governor(nats.nc, name, options).start();
      await slot.finish();
    }
  });

  it('waits between tries as its backoff policy says', async () => {
    const name = uniqueName();
    await GovernorManager.create(nats.nc, name, { limit: 1, maxAge: 60_000 });
    const holder = await new Governor(nats.nc, name).start({ name: 'holder' });
    const asked: number[] = [];
    const backoff = (attempt: number): number => {
      asked.push(attempt);
      return 10;
    };
    const waiting = new Governor(nats.nc, name, { backoff }).start({ name: 'patient' });
    await waitFor(() => asked.length >= 5);
    await holder.finish();
    const slot = await waiting;
    expect(asked).toEqual(asked.map((_, i) => i));
    await slot.finish();

    // A policy that answers no wait ends the campaign, leaving nothing behind.
    const refill = await new Governor(nats.nc, name).start();
    const broken = new Governor(nats.nc, name, { backoff: () => -5 }).start();
    await expect(broken).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(broken).rejects.toThrow(/option 'backoff'/);
    expect((await storedEntries(nats.nc, name)).map((m) => m.seq)).toEqual([refill.seq]);
    await refill.finish();
  });

  it('with leaveOnFinish: false, leaves the entry to expire: the slot comes back only after maxAge', async () => {
    const name = uniqueName();
    const maxAge = 2000;
    const manager = await GovernorManager.create(nats.nc, name, { limit: 1, maxAge });
    const governor = new Governor(nats.nc, name, {
      leaveOnFinish: false,
      retryInterval: 20,
      maxRetryInterval: 50,
    });
    const before = Date.now();
    const first = await governor.start({ name: 'first run' });
    await first.finish();
    await first.finish(); // idempotent
    expect(await manager.entries()).toMatchObject([{ seq: first.seq, name: 'first run' }]);
    const second = await governor.start({
      name: 'second run',
      signal: AbortSignal.timeout(20_000),
    });
    // The first entry was written after `before` and lives maxAge (the server's timer is never early).
    expect(Date.now() - before).toBeGreaterThanOrEqual(maxAge - 50);
    await second.finish();
    expect(await manager.entries()).toMatchObject([{ seq: second.seq, name: 'second run' }]);
  });

  it('run() holds a slot while fn runs and frees it whether fn returns or throws', async () => {
    const name = uniqueName();
    const governor = await governorOf({ limit: 1, maxAge: 60_000 }, name);
    const manager = await GovernorManager.open(nats.nc, name);
    const value = await governor.run('runner', async (signal) => {
      expect(signal.aborted).toBe(false);
      expect(await manager.active()).toBe(1);
      return 42;
    });
    expect(value).toBe(42);
    expect(await manager.active()).toBe(0);
    await expect(
      governor.run('runner', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await manager.active()).toBe(0);
  });

  it('rejects invalid names and options with ERR_INVALID_OPTION', async () => {
    expect(() => new Governor(nats.nc, 'has.dot')).toThrow(/name/);
    expect(() => new Governor(nats.nc, 'ok', { retryInterval: 0 })).toThrow(/retryInterval/);
    const invalid: unknown[] = [
      { retryInterval: 500, maxRetryInterval: 100 },
      { backoff: 'linear' },
      { leaveOnFinish: 'no' },
      { timeout: 0 },
    ];
    for (const options of invalid) {
      expect(
        () => new Governor(nats.nc, 'ok', options as GovernorOptions),
        JSON.stringify(options),
      ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }) as Error);
    }
    expect(() => new Governor(nats.nc, 'ok', { retryInterval: 5000 })).not.toThrow();
    const governor = new Governor(nats.nc, (await governorOf({ limit: 1, maxAge: 2000 })).name, {
      refreshInterval: 5000,
    });
    await expect(governor.start()).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    const jsm = await jetstreamManager(nats.nc);
    expect((await jsm.streams.info(`GOVERNOR_${governor.name}`)).state.messages).toBe(0);
  });
});

/** The operator's side: creating, viewing, changing, listing and removing governors. */
import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { Governor, GovernorManager } from '#internal/nats/index.js';
import { storedEntries, uniqueName, useNatsServer, waitFor } from '../../helpers/nats-setup.js';

const nats = useNatsServer();

describe('GovernorManager', () => {
  it('creates one file-backed, discard-new stream per governor', async () => {
    const name = uniqueName();
    const manager = await GovernorManager.create(nats.nc, name, { limit: 3, maxAge: 90_000 });
    expect(manager).toMatchObject({ name, limit: 3, maxAge: 90_000, replicas: 1 });
    const jsm = await jetstreamManager(nats.nc);
    const { config } = await jsm.streams.info(`GOVERNOR_${name}`);
    expect(config).toMatchObject({
      subjects: [`corral.governor.${name}.*`],
      storage: 'file',
      discard: 'new',
      retention: 'limits',
      max_msgs: 3,
      max_msgs_per_subject: 1,
      max_age: 90_000 * 1_000_000,
      num_replicas: 1,
      description: `corral governor ${name}`,
    });
    expect(manager.subject).toBe(`corral.governor.${name}`);
  });

  it('keeps entries under a custom subject, stored with the governor so that every client finds it', async () => {
    const name = uniqueName('subject');
    const subject = `jobs.${name}`;
    const manager = await GovernorManager.create(nats.nc, name, {
      limit: 2,
      maxAge: 60_000,
      subject,
    });
    expect(manager.subject).toBe(subject);
    const jsm = await jetstreamManager(nats.nc);
    expect((await jsm.streams.info(`GOVERNOR_${name}`)).config.subjects).toEqual([`${subject}.*`]);

    // A Governor given only the name publishes under the subject, and refreshes there.
    const slot = await new Governor(nats.nc, name, { refreshInterval: 100 }).start({
      name: 'custom',
    });
    const firstSeq = slot.seq;
    await waitFor(() => slot.seq > firstSeq);
    const stored = await storedEntries(nats.nc, name);
    expect(stored.map((m) => m.subject)).toEqual([expect.stringMatching(`^${subject}\\.`)]);
    const opened = await GovernorManager.open(nats.nc, name);
    expect(await opened.entries()).toMatchObject([{ seq: slot.seq, name: 'custom' }]);
    const listed = await GovernorManager.list(nats.nc);
    expect(listed.find((g) => g.name === name)).toMatchObject({ subject, active: 1 });
    await slot.finish();
    expect(slot.signal.aborted).toBe(false);
    expect(await manager.active()).toBe(0);

    // The subject is part of the governor: the same one updates, another is refused.
    await expect(
      GovernorManager.create(
        nats.nc,
        name,
        { limit: 3, maxAge: 60_000, subject },
        { update: true },
      ),
    ).resolves.toMatchObject({ limit: 3, subject });
    const other = GovernorManager.create(
      nats.nc,
      name,
      { limit: 3, maxAge: 60_000 },
      { update: true },
    );
    await expect(other).rejects.toMatchObject({ code: 'ERR_GOVERNOR_EXISTS' });
    await expect(other).rejects.toThrow(/subject cannot be changed/);
    // No two governors capture the same subjects.
    const overlapping = GovernorManager.create(nats.nc, uniqueName('subject'), {
      limit: 1,
      maxAge: 60_000,
      subject,
    });
    await expect(overlapping).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(overlapping).rejects.toThrow(/option 'subject' must be a subject whose entries/);
    for (const bad of ['a.*', 'a.>', 'a..b', '.a', 'has space', '', 42]) {
      await expect(
        GovernorManager.create(nats.nc, uniqueName(), {
          limit: 1,
          maxAge: 60_000,
          subject: bad as string,
        }),
        String(bad),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    }
  });

  it('opens an existing governor with the same config, refuses a different one unless updating', async () => {
    const name = uniqueName();
    await GovernorManager.create(nats.nc, name, { limit: 2, maxAge: 60_000 });
    await expect(
      GovernorManager.create(nats.nc, name, { limit: 2, maxAge: 60_000 }),
    ).resolves.toMatchObject({ limit: 2 });
    await expect(
      GovernorManager.create(nats.nc, name, { limit: 5, maxAge: 60_000 }),
    ).rejects.toMatchObject({ code: 'ERR_GOVERNOR_EXISTS' });
    const updated = await GovernorManager.create(
      nats.nc,
      name,
      { limit: 5, maxAge: 30_000 },
      { update: true },
    );
    expect(updated).toMatchObject({ limit: 5, maxAge: 30_000 });
  });

  it('says "unknown governor" for one that does not exist', async () => {
    const name = uniqueName('missing');
    await expect(GovernorManager.open(nats.nc, name)).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_GOVERNOR',
      message: `unknown governor '${name}'`,
    });
    const manager = await GovernorManager.create(nats.nc, name, { limit: 1, maxAge: 5000 });
    await manager.remove();
    await expect(manager.entries()).rejects.toMatchObject({ code: 'ERR_UNKNOWN_GOVERNOR' });
    await expect(manager.remove()).rejects.toMatchObject({ code: 'ERR_UNKNOWN_GOVERNOR' });
    await expect(manager.reset()).rejects.toMatchObject({ code: 'ERR_UNKNOWN_GOVERNOR' });
    await expect(manager.setLimit(3)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_GOVERNOR' });
    await expect(new Governor(nats.nc, name).start()).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_GOVERNOR',
    });
  });

  it('shows active slots, last activity and entries with seq, name and age', async () => {
    const name = uniqueName();
    const manager = await GovernorManager.create(nats.nc, name, { limit: 3, maxAge: 60_000 });
    expect(await manager.active()).toBe(0);
    expect(await manager.lastActive()).toBeUndefined();
    expect(await manager.entries()).toEqual([]);
    const governor = new Governor(nats.nc, name);
    const before = Date.now();
    const a = await governor.start({ name: 'alpha' });
    const b = await governor.start({ name: 'beta' });
    const granted = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await manager.active()).toBe(2);
    const last = await manager.lastActive();
    expect(last).toBeInstanceOf(Date);
    expect(Math.abs(Date.now() - (last?.getTime() ?? 0))).toBeLessThan(10_000);
    const looked = Date.now();
    const entries = await manager.entries();
    const after = Date.now();
    expect(entries.map((e) => [e.seq, e.name])).toEqual([
      [a.seq, 'alpha'],
      [b.seq, 'beta'],
    ]);
    for (const entry of entries) {
      // Granted between `before` and `granted`, listed between `looked` and `after`.
      expect(entry.age).toBeGreaterThanOrEqual(looked - granted);
      expect(entry.age).toBeLessThanOrEqual(after - before);
      expect(entry.expiresIn).toBeGreaterThan(50_000);
      expect(entry.expiresIn).toBeLessThanOrEqual(60_000);
    }
    await a.finish();
    await b.finish();
  });

  it('evicts an entry by seq, and says when there is none', async () => {
    const name = uniqueName();
    const manager = await GovernorManager.create(nats.nc, name, { limit: 2, maxAge: 60_000 });
    const slot = await new Governor(nats.nc, name).start({ name: 'stuck' });
    await expect(manager.evict(slot.seq)).resolves.toMatchObject({ seq: slot.seq, name: 'stuck' });
    expect(await manager.active()).toBe(0);
    await expect(manager.evict(slot.seq)).rejects.toMatchObject({
      code: 'ERR_GOVERNOR_ENTRY_NOT_FOUND',
    });
    await expect(manager.evict(0)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await slot.finish().catch(() => undefined);
  });

  it('resets a governor, removing every entry', async () => {
    const name = uniqueName();
    const manager = await GovernorManager.create(nats.nc, name, { limit: 3, maxAge: 60_000 });
    const governor = new Governor(nats.nc, name);
    const slots = await Promise.all([governor.start(), governor.start()]);
    expect(await manager.reset()).toBe(2);
    expect(await manager.active()).toBe(0);
    await Promise.all(slots.map((s) => s.finish().catch(() => undefined)));
  });

  it('raises and lowers the limit, refusing to go below the slots held unless forced', async () => {
    const name = uniqueName();
    const manager = await GovernorManager.create(nats.nc, name, { limit: 2, maxAge: 60_000 });
    const governor = new Governor(nats.nc, name);
    const slots = await Promise.all([governor.start(), governor.start()]);
    await expect(manager.setLimit(4)).resolves.toMatchObject({ limit: 4 });
    await expect(manager.setLimit(2)).resolves.toMatchObject({ limit: 2 }); // equal to active
    const refused = manager.setLimit(1);
    await expect(refused).rejects.toMatchObject({ code: 'ERR_GOVERNOR_LIMIT_BELOW_ACTIVE' });
    await expect(refused).rejects.toThrow(/2 slots are held/);
    await expect(manager.update({ limit: 1, maxAge: 30_000 })).rejects.toMatchObject({
      code: 'ERR_GOVERNOR_LIMIT_BELOW_ACTIVE',
    });
    expect(await manager.info()).toMatchObject({ limit: 2, maxAge: 60_000, active: 2 });
    await expect(manager.setLimit(1, { force: true })).resolves.toMatchObject({ limit: 1 });
    expect(await manager.active()).toBe(1);
    await expect(manager.setMaxAge(20_000)).resolves.toMatchObject({ maxAge: 20_000 });
    expect(manager.maxAge).toBe(20_000);
    await Promise.all(slots.map((s) => s.finish().catch(() => undefined)));
  });

  it('lists governors, and only governors', async () => {
    const a = uniqueName('list');
    const b = uniqueName('list');
    await GovernorManager.create(nats.nc, a, { limit: 1, maxAge: 10_000 });
    await GovernorManager.create(nats.nc, b, { limit: 7, maxAge: 20_000 });
    const jsm = await jetstreamManager(nats.nc);
    const impostor = uniqueName('impostor');
    await jsm.streams.add({ name: `GOVERNOR_${impostor}`, subjects: [`elsewhere.${impostor}`] });
    const listed = await GovernorManager.list(nats.nc);
    const names = listed.map((g) => g.name);
    expect(names).toContain(a);
    expect(names).toContain(b);
    expect(names).not.toContain(impostor);
    expect(listed.find((g) => g.name === b)).toMatchObject({ limit: 7, maxAge: 20_000, active: 0 });
    await expect(
      GovernorManager.create(nats.nc, impostor, { limit: 1, maxAge: 10_000 }),
    ).rejects.toMatchObject({ code: 'ERR_GOVERNOR_EXISTS' });
    await expect(GovernorManager.open(nats.nc, impostor)).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_GOVERNOR',
    });
  });

  it('validates configuration with messages that show the value', async () => {
    const create = (config: { limit: number; maxAge: number; replicas?: number }) =>
      GovernorManager.create(nats.nc, uniqueName(), config);
    await expect(create({ limit: 0, maxAge: 10_000 })).rejects.toThrow(
      "option 'limit' must be an integer from 1",
    );
    await expect(create({ limit: 1, maxAge: 500 })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    });
    await expect(create({ limit: 1.5, maxAge: 10_000 })).rejects.toThrow(/number 1.5/);
    await expect(create({ limit: 1, maxAge: 10_000, replicas: 9 })).rejects.toThrow(/replicas/);
    await expect(GovernorManager.open(nats.nc, 'a b')).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    });
  });
});

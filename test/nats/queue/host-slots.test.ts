/**
 * A client's count of the thread slots serving its queue (`HostSlots`), read from the hosts'
 * presence records through a stand-in for JetStream's manager (no server). Uses the built
 * internals.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JetStreamManager } from '@nats-io/jetstream';
import { HostSlots, REFRESH_MS, RETRY_MS } from '#internal/nats/queue/host-slots.js';
import { queueLayout } from '#internal/nats/queue/layout.js';
import type { HostPresence } from '#internal/nats/queue/presence.js';

const layout = queueLayout('slots');

/** A manager whose hosts stream holds `hosts()`; counts the readings (stream infos). */
function manager(hosts: () => HostPresence[] | Error) {
  let readings = 0;
  const jsm = {
    streams: {
      info: () => {
        readings++;
        const now = hosts();
        if (now instanceof Error) return Promise.reject(now);
        const subjects = Object.fromEntries(now.map((h) => [layout.hostSubject(h.id), 1]));
        return Promise.resolve({ state: { subjects } });
      },
      getMessage: (_stream: string, query: { last_by_subj: string }) => {
        const now = hosts();
        const host = Array.isArray(now)
          ? now.find((h) => layout.hostSubject(h.id) === query.last_by_subj)
          : undefined;
        return Promise.resolve(host === undefined ? null : { json: () => host });
      },
    },
  };
  return {
    get: () => Promise.resolve(jsm as unknown as JetStreamManager),
    readings: () => readings,
  };
}

const host = (id: string, threads: number, draining = false): HostPresence => ({
  id,
  name: id,
  threads,
  tasks: [],
  started: 0,
  updated: 0,
  reported: 0,
  held: 0,
  draining,
});

/** Lets a reading (a few awaited promises) finish. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('HostSlots', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is unknown until read, then counts the threads of the hosts not draining', async () => {
    const m = manager(() => [host('a', 1), host('b', 3), host('c', 8, true)]);
    const slots = new HostSlots(m.get, layout);
    expect(slots.value).toBeUndefined();
    await settle();
    expect(slots.value).toBe(4);
    expect(m.readings()).toBe(1);
  });

  it('reads again at most every REFRESH_MS while hosts are found, every RETRY_MS while none', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let hosts: HostPresence[] | Error = [];
    const m = manager(() => hosts);
    const slots = new HostSlots(m.get, layout);
    slots.refresh();
    await settle();
    expect(slots.value).toBeUndefined();
    expect(m.readings()).toBe(1);
    // None found: read again soon, as hosts are likely starting.
    hosts = [host('a', 2)];
    vi.setSystemTime(Date.now() + RETRY_MS);
    expect(slots.value).toBeUndefined();
    await settle();
    expect(slots.value).toBe(2);
    expect(m.readings()).toBe(2);
    // Found: asked often, read only once REFRESH_MS has passed.
    hosts = [host('a', 2), host('b', 2)];
    for (let i = 0; i < 20; i++) expect(slots.value).toBe(2);
    vi.setSystemTime(Date.now() + REFRESH_MS - 1);
    expect(slots.value).toBe(2);
    await settle();
    expect(m.readings()).toBe(2);
    vi.setSystemTime(Date.now() + 1);
    slots.refresh();
    await settle();
    expect(slots.value).toBe(4);
    expect(m.readings()).toBe(3);
  });

  it('keeps the last count when a reading fails or finds no host', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let hosts: HostPresence[] | Error = [host('a', 3)];
    const m = manager(() => hosts);
    const slots = new HostSlots(m.get, layout);
    slots.refresh();
    await settle();
    expect(slots.value).toBe(3);
    hosts = new Error('server restarting');
    vi.setSystemTime(Date.now() + REFRESH_MS);
    slots.refresh();
    await settle();
    expect(slots.value).toBe(3);
    hosts = [];
    vi.setSystemTime(Date.now() + RETRY_MS);
    slots.refresh();
    await settle();
    expect(slots.value).toBe(3);
    expect(m.readings()).toBe(3);
  });
});

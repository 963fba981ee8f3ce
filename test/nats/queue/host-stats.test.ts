/**
 * A host's dashboard snapshots on their own (a real nats-server and pool, no host): their
 * figures are the pool's `stats()` counters, and the jobs are recorded only while someone
 * listens (a "no responders" answer stops it; a snapshot someone received, or a dashboard's
 * notice, resumes it).
 */
import { describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import {
  HostStatsPublisher,
  hostStatsSubject,
  hostStatsWatchSubject,
  type HostStatsMessage,
} from '#internal/nats/queue/host-stats.js';
import { tasks } from '../../helpers/index.js';
import { uniqueName, useNatsServer } from '../../helpers/nats-setup.js';

const nats = useNatsServer();

const facts = () => ({ id: 'h1', name: 'host one', state: 'running' as const, jobsPerMessage: 1 });

/** The snapshots received on `queue`'s subject from now on. */
function listen(queue: string): { snapshots: HostStatsMessage[]; stop(): void } {
  const snapshots: HostStatsMessage[] = [];
  const sub = nats.nc.subscribe(hostStatsSubject(queue), {
    callback: (_error, m) => {
      snapshots.push(m.json<HostStatsMessage>());
    },
  });
  return {
    snapshots,
    stop: () => {
      sub.unsubscribe();
    },
  };
}

describe('a host’s dashboard snapshots', () => {
  it('carry the counters of stats(), and its jobs while someone listens', async () => {
    await using pool = new Pool({ module: tasks, threads: 2 });
    const queue = uniqueName('stats');
    const watcher = listen(queue);
    await nats.nc.flush();
    const publisher = new HostStatsPublisher(nats.nc, queue, pool, facts);
    try {
      await Promise.all([1, 2, 3].map((n) => pool.do(n)));
      await pool.do({ message: 'no', code: 'E_NO' }, { task: 'fail' }).catch(() => undefined);
      await expect.poll(() => watcher.snapshots.length, { timeout: 3000 }).toBeGreaterThan(0);
      const [first] = watcher.snapshots;
      const s = pool.stats();
      expect(first).toMatchObject({
        id: 'h1',
        name: 'host one',
        state: 'running',
        threads: s.threads,
        running: 0,
        completed: 3,
        failed: 1,
        retried: 0,
        crashes: 0,
        busyTime: s.busyTime,
      });
      expect(first?.jobs.map((j) => [j.task, j.ok, j.code ?? null])).toEqual([
        ['default', true, null],
        ['default', true, null],
        ['default', true, null],
        ['fail', false, 'E_NO'],
      ]);
      expect(publisher.recording).toBe(true);
    } finally {
      publisher.stop();
      watcher.stop();
    }
  });

  it('stop recording jobs when nobody listens, and resume when someone does', async () => {
    await using pool = new Pool({ module: tasks, threads: 1 });
    const queue = uniqueName('stats');
    const publisher = new HostStatsPublisher(nats.nc, queue, pool, facts);
    try {
      // Until its first snapshot it cannot tell: it records.
      expect(publisher.recording).toBe(true);
      // The first snapshot went to nobody: the server said so.
      await expect.poll(() => publisher.recording, { timeout: 3000 }).toBe(false);

      // A dashboard's notice: at once, and its first snapshot has the jobs since.
      const watcher = listen(queue);
      nats.nc.publish(hostStatsWatchSubject(queue));
      await expect.poll(() => publisher.recording, { timeout: 1000 }).toBe(true);
      expect(await pool.do(1)).toBe(2);
      await expect
        .poll(() => watcher.snapshots.flatMap((s) => s.jobs).length, { timeout: 3000 })
        .toBe(1);
      // It listens still: the next snapshots keep it recording.
      const seen = watcher.snapshots.length;
      await expect.poll(() => watcher.snapshots.length, { timeout: 3000 }).toBeGreaterThan(seen);
      expect(publisher.recording).toBe(true);

      // Gone: the next snapshot is answered "no responders".
      watcher.stop();
      await expect.poll(() => publisher.recording, { timeout: 3000 }).toBe(false);

      // A listener that sends no notice (a tap, an older dashboard): a snapshot it received.
      const tap = listen(queue);
      await expect.poll(() => publisher.recording, { timeout: 4000 }).toBe(true);
      expect(await pool.do(2)).toBe(3);
      await expect
        .poll(() => tap.snapshots.flatMap((s) => s.jobs).length, { timeout: 3000 })
        .toBe(1);
      tap.stop();
    } finally {
      publisher.stop();
    }
  });
});

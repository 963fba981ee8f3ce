import { afterEach, describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { RecentWindow, SLOTS, type Counters } from '#internal/pool/stats-window.js';
import { rejection, tasks } from '../helpers/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const counters = (completed: number, threadTime = 0): Counters => ({
  completed,
  failed: 0,
  retried: 0,
  crashes: 0,
  busyTime: 0,
  threadTime,
});

describe('RecentWindow', () => {
  it('keeps SLOTS + 1 slots: the oldest begins between one window and 13/12 of it ago', () => {
    const w = new RecentWindow(1200, 0, counters(0)); // slots of 100 ms
    w.run(5);
    expect(w.due(99)).toBe(false);
    expect(w.due(100)).toBe(true);
    let n = 0;
    for (let t = 100; t <= 1250; t += 100) {
      w.turn(t + 50, () => counters(++n));
      w.run(7);
    }
    // Slots 0..12 (SLOTS + 1): the first (begun at 0) is still in.
    let r = w.read();
    expect(r.from.at).toBe(0);
    expect(r.run.count).toBe(1 + SLOTS);
    w.turn(1300, () => counters(++n));
    r = w.read();
    // Slot 0 is gone; slot 1 begins at its nominal edge, 100 ms.
    expect(r.from.at).toBe(100);
    expect(r.from.start.completed).toBe(1);
    expect(r.run.count).toBe(SLOTS);
    expect(r.run.min).toBe(7);
  });

  it('after a long idle, every slot begins empty, at its own edge', () => {
    const w = new RecentWindow(1200, 0, counters(0));
    w.wait(3);
    const asked: number[] = [];
    w.turn(10_000, (t) => {
      asked.push(t);
      return counters(4, t);
    });
    const r = w.read();
    expect(asked).toHaveLength(SLOTS + 1);
    expect(r.from.at).toBe(8800);
    expect(r.from.start.threadTime).toBe(8800);
    expect(r.wait.count).toBe(0);
  });
});

let pool: Pool | undefined;
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

describe('stats().recent', () => {
  it('moves with the load while the lifetime figures never reset', async () => {
    const p = (pool = new Pool({ module: tasks, threads: 1, statsWindow: 1000 }));
    await p.ready();
    await Promise.all(Array.from({ length: 20 }, (_, n) => p.do(n)));
    await p.do(300, { task: 'spin' });
    let s = p.stats();
    expect(s.completed).toBe(21);
    expect(s.recent.completed).toBe(21);
    expect(s.recent.runTime.count).toBe(21);
    expect(s.recent.utilization).toBeGreaterThan(0.2);
    expect(s.recent.window).toBeLessThanOrEqual(1000 * (1 + 1 / 12) + 50);

    // Idle past the window: the recent figures empty, the lifetime ones stay.
    await sleep(1300);
    s = p.stats();
    expect(s.completed).toBe(21);
    expect(s.runTime.count).toBe(21);
    expect(s.recent.completed).toBe(0);
    expect(s.recent.runTime.count).toBe(0);
    expect(s.recent.busyTime).toBe(0);
    expect(s.recent.utilization).toBe(0);
    expect(s.recent.window).toBeGreaterThanOrEqual(1000);
    expect(s.recent.window).toBeLessThanOrEqual(1000 * (1 + 1 / 12) + 1);
    expect(s.recent.threadTime).toBeGreaterThan(900);

    // A different load: failures.
    for (let i = 0; i < 5; i++) await rejection(p.do({ message: 'no' }, { task: 'fail' }));
    s = p.stats();
    expect(s.recent).toMatchObject({ completed: 0, failed: 5 });
    expect(s.recent.runTime.count).toBe(5);
    expect(s).toMatchObject({ completed: 21, failed: 5 });
    expect(s.runTime.count).toBe(26);
  });

  it('statsWindow is checked', () => {
    expect(() => new Pool({ module: tasks, threads: 1, statsWindow: 10 })).toThrow(
      /statsWindow.*10/,
    );
  });
});

/**
 * The dashboard's history, without a server: host rates and states (gone, left), the batch
 * and its time left, histograms and what a snapshot keeps.
 */
import { describe, expect, it } from 'vitest';
import { DashboardHistory } from '#internal/dashboard/history.js';
import { GONE_AFTER, histBucket, STREAM_MS } from '#internal/dashboard/model.js';
import type { HostReading, Reading } from '#internal/dashboard/source.js';

const T0 = 1_700_000_000_000;

function host(time: number, completed: number, more: Partial<HostReading> = {}): HostReading {
  return {
    id: 'a',
    name: 'host-a',
    threads: 2,
    running: 1,
    completed,
    failed: 0,
    crashes: 0,
    busyTime: completed,
    threadTime: 2 * (time - T0),
    time,
    state: 'serving',
    ...more,
  };
}

function reading(more: Partial<Reading> = {}): Reading {
  return {
    hosts: [],
    totals: null,
    queue: null,
    remaining: null,
    jobs: [],
    failures: [],
    runTimes: [],
    ...more,
  };
}

describe('DashboardHistory', () => {
  it("gives a host's rate over the last reading, and marks it gone when silent", () => {
    const history = new DashboardHistory('q');
    history.advance(reading({ hosts: [host(T0 + 1000, 0)] }), T0 + 1000);
    const tick = history.advance(reading({ hosts: [host(T0 + 2000, 50)] }), T0 + 2000);
    expect(tick.hosts[0]).toMatchObject({ jobsPerSec: 50, state: 'serving', completed: 50 });
    expect(tick.completed).toBe(50);
    expect(tick.rate.completed).toBe(50);
    const silent = history.advance(
      reading({ hosts: [host(T0 + 2000, 50)] }),
      T0 + 2001 + GONE_AFTER,
    );
    expect(silent.hosts[0]).toMatchObject({ state: 'gone', jobsPerSec: 0, running: 0 });
    const left = history.advance(
      reading({ hosts: [host(T0 + 2000, 50, { state: 'left' })] }),
      T0 + 10_000,
    );
    expect(left.hosts[0]?.state).toBe('left');
  });

  it('counts a batch from the last idle reading, with the time left at the recent rate', () => {
    const history = new DashboardHistory('local pool');
    const totals = (completed: number) => ({ completed, failed: 0 });
    expect(history.advance(reading({ totals: totals(10), remaining: 0 }), T0).batch).toBeNull();
    history.advance(reading({ totals: totals(30), remaining: 80 }), T0 + 1000);
    const tick = history.advance(reading({ totals: totals(50), remaining: 60 }), T0 + 2000);
    expect(tick.batch).toEqual({ done: 40, total: 100, eta: expect.any(Number) as unknown });
    // 20 jobs a second: 60 left is about 3 s (the first point, with no rate yet, counts 0).
    expect(tick.batch?.eta).toBeGreaterThan(2000);
    expect(
      history.advance(reading({ totals: totals(110), remaining: 0 }), T0 + 3000).batch,
    ).toBeNull();
  });

  it('keeps run times in log2 buckets per task, and the task stream to its span', () => {
    const history = new DashboardHistory('q');
    const span = (end: number) => ({ lane: 'h/1', task: 't', start: end - 5, end, ok: true });
    history.advance(
      reading({
        jobs: [span(T0), span(T0 + STREAM_MS + 10)],
        runTimes: [
          { task: 't', ms: 1 },
          { task: 't', ms: 3 },
          { task: 't', ms: 4 },
          { task: 'u', ms: 100_000 },
        ],
      }),
      T0 + STREAM_MS + 20,
    );
    const { last, jobs } = history.snapshot();
    expect(jobs).toHaveLength(1);
    expect(last?.histograms['t']?.[histBucket(1)]).toBe(1);
    expect(last?.histograms['t']?.[histBucket(4)]).toBe(2);
    expect(histBucket(3)).toBe(histBucket(4));
    expect(last?.histograms['u']?.at(-1)).toBe(1);
  });
});

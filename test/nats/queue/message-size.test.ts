/**
 * How a client sizes job messages and how a host estimates a job's cost, on their own (no
 * server). Uses the built internals.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  jobsPerMessage,
  MAX_JOBS,
  MAX_TARGET_MS,
  MIN_TARGET_MS,
} from '#internal/nats/queue/message-size.js';
import { MessageTimes, RunClock } from '#internal/nats/queue/run-clock.js';

describe('jobsPerMessage', () => {
  it('sends one job a message until there is an estimate', () => {
    expect(jobsPerMessage(0, 1000)).toBe(1);
  });

  it('packs up to the largest target while much work waits', () => {
    // 1,000 jobs of 5 ms: 5 s waiting, more than 64 x 50 ms.
    expect(jobsPerMessage(5, 1000)).toBe(MAX_TARGET_MS / 5);
    // 400: 2 s waiting, 1/64 of it a message.
    expect(jobsPerMessage(5, 400)).toBe(Math.round(2000 / 64 / 5));
  });

  it('shrinks to the smallest target (single jobs of 5 ms) near the end of a batch', () => {
    expect(jobsPerMessage(5, 20)).toBe(MIN_TARGET_MS / 5);
    expect(jobsPerMessage(50, 3)).toBe(1);
  });

  it('never packs more than the jobs waiting, nor more than MAX_JOBS', () => {
    expect(jobsPerMessage(0.001, 100_000)).toBe(MAX_JOBS);
    expect(jobsPerMessage(0.01, 3)).toBe(3);
  });
});

describe('RunClock', () => {
  it('estimates a job from a message whose results arrive together, not near 0', async () => {
    // The pool hands outcomes back in chunks: all 16 results of a message of 2 ms jobs on
    // one slot come at once, 32 ms after the message went to the pool.
    const clock = new RunClock(1);
    for (let m = 0; m < 4; m++) {
      const times = new MessageTimes();
      await sleep(32);
      for (let j = 0; j < 16; j++) times.finished();
      clock.observe(times);
    }
    expect(clock.estimate).toBeGreaterThan(1.5);
    expect(clock.estimate).toBeLessThan(20);
  });

  it('estimates jobs of mixed sizes by their mean, not the smallest', () => {
    const clock = new RunClock(1);
    let now = 0;
    for (const ms of [1, 50, 25, 2, 48, 30]) {
      const times = new MessageTimes();
      times.handed(now);
      now += ms;
      times.finished(now);
      clock.observe(times);
    }
    expect(clock.estimate).toBeCloseTo(26, 5);
  });
});

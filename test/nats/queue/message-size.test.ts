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
  MIN_SPREAD,
  MIN_TARGET_MS,
  SPREAD,
  spreadFor,
} from '#internal/nats/queue/message-size.js';
import { slotsOf } from '#internal/nats/queue/host-slots.js';
import type { HostPresence } from '#internal/nats/queue/presence.js';
import { MessageTimes, RunClock } from '#internal/nats/queue/run-clock.js';

describe('jobsPerMessage', () => {
  it('sends one job a message until there is an estimate', () => {
    expect(jobsPerMessage(0, 1000)).toBe(1);
    expect(jobsPerMessage(0, 1000, 2)).toBe(1);
  });

  it('packs up to the largest target while much work waits', () => {
    // 2,000 jobs of 5 ms: 10 s waiting, more than 64 x 100 ms.
    expect(jobsPerMessage(5, 2000)).toBe(MAX_TARGET_MS / 5);
    // 400 with the slots unknown: 2 s waiting, 1/64 of it a message.
    expect(jobsPerMessage(5, 400)).toBe(Math.round(2000 / 64 / 5));
    // The same on 2 slots: 1/8 of 2 s is over the largest target.
    expect(jobsPerMessage(5, 400, 2)).toBe(MAX_TARGET_MS / 5);
    // 100 jobs of 50 ms on 2 slots: two a message.
    expect(jobsPerMessage(50, 100, 2)).toBe(2);
  });

  it('shrinks to the smallest target (single jobs of 5 ms) near the end of a batch', () => {
    expect(jobsPerMessage(5, 20)).toBe(MIN_TARGET_MS / 5);
    expect(jobsPerMessage(5, 8, 2)).toBe(1);
    expect(jobsPerMessage(50, 3)).toBe(1);
    expect(jobsPerMessage(50, 10, 2)).toBe(1);
  });

  it('never packs more than the jobs waiting, nor more than MAX_JOBS', () => {
    expect(jobsPerMessage(0.001, 100_000)).toBe(MAX_JOBS);
    expect(jobsPerMessage(0.01, 3)).toBe(3);
  });

  it('spreads a batch over twice the thread slots serving the queue, within 8 and 64', () => {
    expect(spreadFor(undefined)).toBe(SPREAD);
    expect(spreadFor(0)).toBe(SPREAD);
    expect(spreadFor(1)).toBe(MIN_SPREAD);
    expect(spreadFor(2)).toBe(MIN_SPREAD);
    expect(spreadFor(12)).toBe(24);
    expect(spreadFor(500)).toBe(SPREAD);
    // More slots, smaller messages for the same work waiting.
    expect(jobsPerMessage(5, 300, 16)).toBeLessThan(jobsPerMessage(5, 300, 2));
  });
});

describe('slotsOf', () => {
  const host = (threads: number, draining = false): HostPresence => ({
    id: 'h',
    name: 'h',
    threads,
    tasks: [],
    started: 0,
    updated: 0,
    reported: 0,
    held: 0,
    draining,
  });

  it('counts the threads of the hosts that take work, at least 1', () => {
    expect(slotsOf([host(1), host(4)])).toBe(5);
    expect(slotsOf([host(1), host(4, true)])).toBe(1);
    expect(slotsOf([host(2, true)])).toBe(1);
    expect(slotsOf([])).toBe(1);
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

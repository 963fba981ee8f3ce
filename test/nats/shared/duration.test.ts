/** Durations as the CLI reads and prints them, and the retry pacing. */
import { describe, expect, it } from 'vitest';
import { backoffDelay, retryDelay, sleep } from '#internal/nats/shared/backoff.js';
import { formatDuration, parseDuration } from '#internal/nats/shared/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    [' 10s ', 10_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', 's', '5 m', '1y', '-5s', '0s', '1h-'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [999, '999ms'],
    [1500, '1.5s'],
    [30_000, '30s'],
    [90_000, '1m30s'],
    [5_400_000, '1h30m'],
    [90_061_000, '1d1h1m1s'],
  ])('prints %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips what it prints', () => {
    for (const ms of [1, 250, 1000, 61_000, 3_600_000, 86_400_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});

describe('retryDelay', () => {
  it('doubles from the interval up to the cap, jittered within the upper half', () => {
    for (let i = 0; i < 200; i++) {
      const first = retryDelay(0, 250, 2000);
      expect(first).toBeGreaterThanOrEqual(125);
      expect(first).toBeLessThanOrEqual(250);
      const third = retryDelay(2, 250, 2000);
      expect(third).toBeGreaterThanOrEqual(500);
      expect(third).toBeLessThanOrEqual(1000);
      const late = retryDelay(40, 250, 2000);
      expect(late).toBeGreaterThanOrEqual(1000);
      expect(late).toBeLessThanOrEqual(2000);
    }
  });

  it('spreads campaigners refused together', () => {
    const delays = new Set(Array.from({ length: 20 }, () => retryDelay(3, 250, 2000)));
    expect(delays.size).toBeGreaterThan(15);
  });
});

describe('backoffDelay', () => {
  it("'exponential' is retryDelay; 'constant' is the interval give or take 10%", () => {
    for (let i = 0; i < 200; i++) {
      const third = backoffDelay('exponential', 2, 250, 2000);
      expect(third).toBeGreaterThanOrEqual(500);
      expect(third).toBeLessThanOrEqual(1000);
      for (const attempt of [0, 5, 40]) {
        const constant = backoffDelay('constant', attempt, 1000, 2000);
        expect(constant).toBeGreaterThanOrEqual(900);
        expect(constant).toBeLessThanOrEqual(1100);
      }
    }
  });

  it('asks a policy function, and refuses an answer that is not a wait', () => {
    const asked: number[] = [];
    const policy = (attempt: number): number => {
      asked.push(attempt);
      return attempt * 10;
    };
    expect([0, 1, 2].map((attempt) => backoffDelay(policy, attempt, 250, 2000))).toEqual([
      0, 10, 20,
    ]);
    expect(asked).toEqual([0, 1, 2]);
    for (const bad of [-1, Number.NaN, Infinity, '5']) {
      expect(() => backoffDelay(() => bad as number, 0, 250, 2000)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION' }) as Error,
      );
    }
  });
});

describe('sleep', () => {
  it('is cut short by its signal, with the signal reason', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const sleeping = sleep(10_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(sleep(10, AbortSignal.abort(new Error('early')))).rejects.toThrow('early');
    await expect(sleep(1)).resolves.toBeUndefined();
  });
});

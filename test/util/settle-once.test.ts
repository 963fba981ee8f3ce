import { afterEach, describe, expect, it, vi } from 'vitest';
import { SettleOnce, type SettleOwner } from '#internal/util/settle-once.js';

class Call extends SettleOnce<Call> {
  drops = 0;
  protected override released(): void {
    this.drops++;
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('SettleOnce', () => {
  it('settles its promise once; later settlements do nothing', async () => {
    const call = new Call(undefined);
    const outcome = call.promise();
    expect(call.settle(true, 1)).toBe(true);
    expect(call.settle(false, new Error('late'))).toBe(false);
    expect(call.settled).toBe(true);
    expect(await outcome).toBe(1);
    expect(call.drops).toBe(1);
  });

  it('tells its owner instead of a promise, once, naming itself', () => {
    const heard: [Call, boolean, unknown][] = [];
    const owner: SettleOwner<Call> = { settled: (c, ok, value) => heard.push([c, ok, value]) };
    const call = new Call(owner);
    call.settle(false, 'no');
    call.settle(true, 'yes');
    expect(heard).toEqual([[call, false, 'no']]);
  });

  it('its timer settles it, and does not run once it settled otherwise', () => {
    vi.useFakeTimers();
    const timedOut = new Call(undefined);
    void timedOut.promise().catch(() => undefined);
    timedOut.startTimer(100, () => timedOut.settle(false, 'timeout'));
    vi.advanceTimersByTime(100);
    expect(timedOut.settled).toBe(true);
    const fired = vi.fn();
    const done = new Call(undefined);
    done.startTimer(100, fired);
    done.settle(true, 1);
    vi.advanceTimersByTime(1_000);
    expect(fired).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('listens to its signal until it settles (at once for one aborted already)', () => {
    const heard: unknown[] = [];
    const aborted = new Call(undefined);
    aborted.listen(AbortSignal.abort('early'), (reason) => heard.push(reason));
    expect(heard).toEqual(['early']);
    const controller = new AbortController();
    const call = new Call(undefined);
    call.listen(controller.signal, (reason) => heard.push(reason));
    call.settle(true, 1);
    controller.abort('too late');
    expect(heard).toEqual(['early']);
  });
});

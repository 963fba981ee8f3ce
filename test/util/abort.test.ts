import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { AbortError } from 'corral';
import { abortable, onAbort } from '#internal/util/abort.js';

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

describe('onAbort', () => {
  it('calls fn once with the reason when the signal aborts, and then has no listener left', () => {
    const controller = new AbortController();
    const fn = vi.fn();
    onAbort(controller.signal, fn);
    expect(fn).not.toHaveBeenCalled();
    expect(listeners(controller.signal)).toBe(1);
    controller.abort('why');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn).toHaveBeenCalledWith('why');
    expect(listeners(controller.signal)).toBe(0);
  });

  it('calls fn at once, synchronously, for a signal aborted already, and adds no listener', () => {
    const signal = AbortSignal.abort('early');
    const fn = vi.fn();
    const unlisten = onAbort(signal, fn);
    expect(fn).toHaveBeenCalledWith('early');
    expect(listeners(signal)).toBe(0);
    unlisten();
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('its disposer removes the listener, so a later abort calls nothing; calling it twice is harmless', () => {
    const controller = new AbortController();
    const fn = vi.fn();
    const unlisten = onAbort(controller.signal, fn);
    unlisten();
    unlisten();
    expect(listeners(controller.signal)).toBe(0);
    controller.abort();
    expect(fn).not.toHaveBeenCalled();
  });

  it('an undefined signal never calls fn', () => {
    const fn = vi.fn();
    onAbort(undefined, fn)();
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('abortable', () => {
  it('resolves with what the executor resolves, and removes its listener', async () => {
    const controller = new AbortController();
    const withdraw = vi.fn();
    let resolve!: (value: number) => void;
    const p = abortable<number>(controller.signal, (res) => {
      resolve = res;
      return withdraw;
    });
    expect(listeners(controller.signal)).toBe(1);
    resolve(7);
    expect(await p).toBe(7);
    expect(listeners(controller.signal)).toBe(0);
    controller.abort();
    expect(withdraw).not.toHaveBeenCalled();
  });

  it('rejects with the executor error as it is, and removes its listener', async () => {
    const controller = new AbortController();
    const error = { not: 'an Error' };
    const p = abortable<number>(controller.signal, (_res, rej) => {
      setTimeout(() => {
        rej(error);
      }, 1);
      return undefined;
    });
    await expect(p).rejects.toBe(error);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('on abort withdraws the work once and rejects with an AbortError whose cause is the reason', async () => {
    const controller = new AbortController();
    const withdraw = vi.fn();
    const p = abortable<number>(controller.signal, () => withdraw);
    const reason = new Error('changed my mind');
    controller.abort(reason);
    controller.abort(new Error('again'));
    const error: unknown = await p.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).code).toBe('ABORT_ERR');
    expect((error as AbortError).cause).toBe(reason);
    expect(withdraw).toHaveBeenCalledTimes(1);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('an answer that comes after the abort (even from inside withdraw) is ignored', async () => {
    const controller = new AbortController();
    let resolve!: (value: number) => void;
    const p = abortable<number>(controller.signal, (res) => {
      resolve = res;
      return () => {
        res(1);
      };
    });
    controller.abort('stop');
    resolve(2);
    const error: unknown = await p.catch((e: unknown) => e);
    expect((error as AbortError).code).toBe('ABORT_ERR');
  });

  it('a signal aborted already rejects at once and never starts the work', async () => {
    const executor = vi.fn();
    const error: unknown = await abortable(AbortSignal.abort('early'), executor).catch(
      (e: unknown) => e,
    );
    expect(executor).not.toHaveBeenCalled();
    expect((error as AbortError).code).toBe('ABORT_ERR');
    expect((error as AbortError).cause).toBe('early');
  });

  it('work settled inside the executor leaves no listener behind', async () => {
    const controller = new AbortController();
    const withdraw = vi.fn();
    const p = abortable<string>(controller.signal, (res) => {
      res('now');
      return withdraw;
    });
    expect(listeners(controller.signal)).toBe(0);
    controller.abort();
    expect(await p).toBe('now');
    expect(withdraw).not.toHaveBeenCalled();
  });

  it('rejects with toError(reason) when given one', async () => {
    const controller = new AbortController();
    const p = abortable<undefined>(
      controller.signal,
      () => undefined,
      (reason) => reason,
    );
    const reason = new Error('plain');
    controller.abort(reason);
    await expect(p).rejects.toBe(reason);
  });

  it('an executor that throws rejects with its error and adds no listener', async () => {
    const controller = new AbortController();
    const p = abortable<undefined>(controller.signal, () => {
      throw new Error('cannot start');
    });
    await expect(p).rejects.toThrow('cannot start');
    expect(listeners(controller.signal)).toBe(0);
  });
});

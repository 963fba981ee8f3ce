import { describe, expect, it } from 'vitest';
import { cloneFailure, fromWire, toWire } from '#internal/protocol/wire-error.js';
import { AbortError, DataCloneError } from '#internal/util/errors.js';

/** Through the wire and back, as a structured clone would carry it. */
const roundTrip = (thrown: unknown, classes?: Parameters<typeof fromWire>[1]): unknown =>
  fromWire(structuredClone(toWire(thrown)), classes);

describe('wire errors', () => {
  it('rebuilds an Error with its name, message, code, own properties, cause and stack', () => {
    const original = Object.assign(new TypeError('bad', { cause: new Error('root') }), {
      code: 'E_BAD',
      detail: 7,
    });
    const back = roundTrip(original) as Error & { code?: string; detail?: number };
    expect(back).toBeInstanceOf(Error);
    expect(back.name).toBe('TypeError');
    expect(back.message).toBe('bad');
    expect(back.code).toBe('E_BAD');
    expect(back.detail).toBe(7);
    expect((back.cause as Error).message).toBe('root');
    expect(back.stack).toBe(original.stack);
    expect(Object.keys(back).sort()).toEqual(['code', 'detail']);
  });

  it('gives back a thrown non-Error as it was', () => {
    expect(roundTrip({ reason: 'x' })).toEqual({ reason: 'x' });
    expect(roundTrip(42)).toBe(42);
  });

  it("rebuilds a result that could not be cloned as corral's DataCloneError", () => {
    const back = fromWire(cloneFailure(new Error('a function')));
    expect(back).toBeInstanceOf(DataCloneError);
    expect(((back as Error).cause as Error).message).toBe('a function');
  });

  it('with classes, rebuilds corral errors as instances of their class; without, as Error', () => {
    const original = new AbortError('stop');
    const classes = { AbortError };
    const typed = roundTrip(original, classes) as AbortError;
    expect(typed).toBeInstanceOf(AbortError);
    expect(typed.code).toBe('ABORT_ERR');
    expect(typed.message).toBe(original.message);
    expect(typed.cause).toBe('stop');
    expect(Object.keys(typed)).toEqual(['code']);
    const plain = roundTrip(original) as Error & { code?: string };
    expect(plain).not.toBeInstanceOf(AbortError);
    expect(plain.name).toBe('AbortError');
    expect(plain.code).toBe('ABORT_ERR');
    // A name that matches a class but carries no code is not corral's.
    const impostor = Object.assign(new Error('mine'), { name: 'AbortError' });
    expect(roundTrip(impostor, classes)).not.toBeInstanceOf(AbortError);
  });
});

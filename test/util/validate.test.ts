import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from 'corral';
import {
  check,
  checkArray,
  checkFunction,
  checkInteger,
  checkIntegerIn,
  checkKnown,
  checkNonEmptyString,
  checkObject,
  checkOneOf,
  checkPositiveInteger,
  checkSignal,
  invalid,
  isNonEmptyString,
  isString,
} from '#internal/util/validate.js';

/** The error `fn` throws (fails the test if it returns). */
function thrown(fn: () => unknown): InvalidOptionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).code).toBe('ERR_INVALID_OPTION');
    return error as InvalidOptionError;
  }
  throw new Error('expected a throw');
}

describe('option checks', () => {
  it('return the value they accept', () => {
    const fn = (): number => 1;
    const signal = new AbortController().signal;
    const object = { a: 1 };
    expect(checkInteger('n', 0, 0)).toBe(0);
    expect(checkInteger('n', Infinity, 0, true)).toBe(Infinity);
    expect(checkIntegerIn('n', 5, 1, 5)).toBe(5);
    expect(checkPositiveInteger('n', Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
    expect(checkNonEmptyString('s', 'x')).toBe('x');
    expect(checkFunction('f', fn)).toBe(fn);
    expect(checkObject('o', object)).toBe(object);
    expect(checkSignal('signal', signal)).toBe(signal);
    expect(checkOneOf('queueFull', 'reject', ['wait', 'reject'])).toBe('reject');
    expect(checkArray('a', ['x', ''], isString, 'an array of strings')).toEqual(['x', '']);
    expect(() => {
      check(true, 'n', 'anything', 1);
      checkKnown({ a: 1, b: 2 }, new Set(['a', 'b', 'c']));
    }).not.toThrow();
  });

  it.each([
    [
      'an integer below min',
      () => checkInteger('threads', 0, 1),
      "option 'threads' must be an integer >= 1; received number 0",
    ],
    [
      'a fraction',
      () => checkInteger('timeout', 1.5, 0),
      "option 'timeout' must be an integer >= 0; received number 1.5",
    ],
    [
      'Infinity where not allowed',
      () => checkInteger('threads', Infinity, 1),
      "option 'threads' must be an integer >= 1; received number Infinity",
    ],
    [
      'NaN',
      () => checkInteger('maxQueue', NaN, 0, true),
      "option 'maxQueue' must be an integer >= 0 or Infinity; received number NaN",
    ],
    [
      'a numeric string',
      () => checkInteger('target', '3', 0, true),
      "option 'target' must be an integer >= 0 or Infinity; received '3'",
    ],
    [
      '-Infinity',
      () => checkInteger('target', -Infinity, 0, true),
      "option 'target' must be an integer >= 0 or Infinity; received number -Infinity",
    ],
    [
      'above max',
      () => checkIntegerIn('replicas', 6, 1, 5),
      "option 'replicas' must be an integer from 1 to 5; received number 6",
    ],
    [
      'out of range, own wording',
      () => checkIntegerIn('idle', 3, 0, 2, 'an integer from 0 to max (2)'),
      "option 'idle' must be an integer from 0 to max (2); received number 3",
    ],
    [
      'zero',
      () => checkPositiveInteger('depth', 0),
      "option 'depth' must be a positive integer; received number 0",
    ],
    [
      'an unsafe integer',
      () => checkPositiveInteger('max', 2 ** 53),
      "option 'max' must be a positive integer; received number 9007199254740992",
    ],
    [
      'undefined, own wording',
      () => checkPositiveInteger('timeout', undefined, 'a positive integer (ms)'),
      "option 'timeout' must be a positive integer (ms); received undefined",
    ],
    [
      'an empty string',
      () => checkNonEmptyString('key', ''),
      "option 'key' must be a non-empty string; received ''",
    ],
    [
      'a number for a string',
      () => checkNonEmptyString('name', 7),
      "option 'name' must be a non-empty string; received number 7",
    ],
    [
      'a number for a function',
      () => checkFunction('create', 1),
      "option 'create' must be a function; received number 1",
    ],
    [
      'a string for a function, own wording',
      () => checkFunction('transfer', 'x', 'a function of the input'),
      "option 'transfer' must be a function of the input; received 'x'",
    ],
    [
      'null for an object',
      () => checkObject('options', null),
      "option 'options' must be an object; received null",
    ],
    [
      'a plain object for a signal',
      () => checkSignal('signal', {}),
      "option 'signal' must be an AbortSignal; received an object (Object)",
    ],
    [
      'an unknown choice',
      () => checkOneOf('queueFull', 'drop', ['wait', 'reject']),
      "option 'queueFull' must be 'wait' or 'reject'; received 'drop'",
    ],
    [
      'an array with a bad item',
      () => checkArray('signals', ['SIGINT', ''], isNonEmptyString, 'an array of signal names'),
      "option 'signals' must be an array of signal names; received an array",
    ],
    [
      'a string for an array',
      () => checkArray('execArgv', '--x', isString, 'an array of strings'),
      "option 'execArgv' must be an array of strings; received '--x'",
    ],
    [
      'an unknown option',
      () => {
        checkKnown({ threads: 1, thread: 4 }, new Set(['threads']));
      },
      "option 'thread' must be a known option; received number 4",
    ],
    [
      'a failed rule',
      () => {
        check(false, 'timeout', 'a number of milliseconds', -1);
      },
      "option 'timeout' must be a number of milliseconds; received number -1",
    ],
    [
      'invalid itself',
      () => invalid('x', 'y', true),
      "option 'x' must be y; received boolean true",
    ],
  ])('reject %s, naming the option and the value', (_what, fn, message) => {
    expect(thrown(fn).message).toBe(message);
  });
});

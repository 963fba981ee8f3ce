/**
 * Option checks, written once. Each throws {@link InvalidOptionError} (`ERR_INVALID_OPTION`)
 * with a message that names the option, says what it must be and shows the value received:
 * `option 'max' must be a positive integer; received number 0`. Each returns the value,
 * typed, so a check reads as an assignment: `this.#max = checkPositiveInteger('max', max)`.
 *
 * The `expected` wording is part of what callers and their tests rely on; where a caller
 * words it its own way (`'a positive integer (ms)'`), it passes its wording in.
 */
import { InvalidOptionError } from './errors.js';

/** Throws the {@link InvalidOptionError} for option `name`. */
export function invalid(name: string, expected: string, received: unknown): never {
  throw new InvalidOptionError(name, expected, received);
}

/** Throws unless `ok`: for a rule no other check here expresses. */
export function check(ok: boolean, name: string, expected: string, received: unknown): void {
  if (!ok) invalid(name, expected, received);
}

/**
 * An integer `>= min`, or also `Infinity` when `infinite` ("no limit").
 * Message: `an integer >= 1` or `an integer >= 0 or Infinity`.
 */
export function checkInteger(name: string, value: unknown, min: number, infinite = false): number {
  if (isIntegerIn(value, min, Number.POSITIVE_INFINITY)) return value;
  if (infinite && value === Number.POSITIVE_INFINITY) return value;
  return invalid(name, `an integer >= ${min}${infinite ? ' or Infinity' : ''}`, value);
}

/** An integer from `min` to `max`, both included. Message: `an integer from 1 to 5` unless given. */
export function checkIntegerIn(
  name: string,
  value: unknown,
  min: number,
  max: number,
  expected = `an integer from ${min} to ${max}`,
): number {
  return isIntegerIn(value, min, max) ? value : invalid(name, expected, value);
}

/** A safe integer `>= 1`. Message: `a positive integer` unless given. */
export function checkPositiveInteger(
  name: string,
  value: unknown,
  expected = 'a positive integer',
): number {
  return checkIntegerIn(name, value, 1, Number.MAX_SAFE_INTEGER, expected);
}

/** A string of at least one character. Message: `a non-empty string`. */
export function checkNonEmptyString(name: string, value: unknown): string {
  return isNonEmptyString(value) ? value : invalid(name, 'a non-empty string', value);
}

/** A function. Message: `a function` unless given (say what it is called with). */
export function checkFunction<F>(name: string, value: F, expected = 'a function'): F {
  return typeof value === 'function' ? value : invalid(name, expected, value);
}

/** A non-null object (arrays included). Message: `an object`. */
export function checkObject(name: string, value: unknown): Record<string, unknown> {
  return isObject(value) ? value : invalid(name, 'an object', value);
}

/** An `AbortSignal`. Message: `an AbortSignal`. */
export function checkSignal(name: string, value: unknown): AbortSignal {
  return value instanceof AbortSignal ? value : invalid(name, 'an AbortSignal', value);
}

/** One of `choices`. Message: the choices quoted, e.g. `'wait' or 'reject'`. */
export function checkOneOf<const C extends readonly string[]>(
  name: string,
  value: unknown,
  choices: C,
): C[number] {
  if (choices.includes(value as string)) return value as C[number];
  return invalid(name, choices.map((c) => `'${c}'`).join(' or '), value);
}

/** An array whose every item passes `isItem`. Message: `expected`, e.g. `an array of strings`. */
export function checkArray<T>(
  name: string,
  value: unknown,
  isItem: (item: unknown) => item is T,
  expected: string,
): T[] {
  return Array.isArray(value) && value.every(isItem) ? value : invalid(name, expected, value);
}

/**
 * Every own key of `options` is in `known`; otherwise throws for the first unknown one,
 * with its value (`option 'thread' must be a known option; received number 4`).
 */
export function checkKnown(options: Record<string, unknown>, known: ReadonlySet<string>): void {
  for (const key of Object.keys(options)) {
    if (!known.has(key)) invalid(key, 'a known option', options[key]);
  }
}

/** Whether `value` is a string of at least one character. */
export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** Whether `value` is a string. */
export function isString(value: unknown): value is string {
  return typeof value === 'string';
}

/** Whether `value` is a non-null object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

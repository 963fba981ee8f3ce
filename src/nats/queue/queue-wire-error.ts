/**
 * Errors crossing from a host to its client. `node:v8` serialisation keeps an Error's
 * message, stack and cause but drops its `code`, its own properties and its class, so an
 * error travels as plain data and is rebuilt on the client: corral's own errors as
 * instances of their classes (so `instanceof` works as with a local pool), anything a task
 * threw as an `Error` with its name, message, stack, `code` and own properties.
 *
 * @module
 */
import * as corral from '../../index.js';
import {
  fromWire as fromThreadWire,
  toWire as toThreadWire,
  type ErrorClasses,
  type WireError,
} from '../../protocol/wire-error.js';
import { HostLostError, PayloadTooLargeError } from './errors.js';

/**
 * An error as plain data: the thread boundary's form, whose cloneable values are the ones
 * `node:v8` serialises. Its `retry` flag travels but means nothing here.
 */
export type { WireError };

function isCorralClass(
  value: unknown,
): value is { readonly name: string; readonly prototype: unknown } {
  return (
    typeof value === 'function' &&
    (value === corral.CorralError || value.prototype instanceof corral.CorralError)
  );
}

/**
 * corral's error classes by name, to rebuild them with their prototype: every one the
 * package exports, and the queue's own.
 */
const CLASSES: ErrorClasses = Object.fromEntries(
  [...(Object.values(corral) as unknown[]), HostLostError, PayloadTooLargeError]
    .filter(isCorralClass)
    .map((cls) => [cls.name, cls]),
);

/** Turns anything thrown into serialisable data. Never throws. */
export function toWire(thrown: unknown): WireError {
  return toThreadWire(thrown);
}

/** Rebuilds what {@link toWire} made: corral's errors with their class, others as `Error`. */
export function fromWire(wire: WireError): unknown {
  return fromThreadWire(wire, CLASSES);
}

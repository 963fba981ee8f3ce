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
import { toWire as toThreadWire } from '../../protocol/wire-error.js';
import { HostLostError, PayloadTooLargeError } from './errors.js';

/**
 * An error as plain data: the thread boundary's form (src/protocol/wire-error.ts), whose
 * cloneable values are the ones `node:v8` serialises. Its `retry` flag travels but means
 * nothing here.
 */
export interface WireError {
  /** `error`: an Error, field by field; `value`: something else was thrown, sent as is. */
  readonly kind: 'error' | 'value' | 'data-clone';
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** Own enumerable properties that serialise (`code` among them). */
  readonly props: Record<string, unknown>;
  readonly cause: WireError | undefined;
  /** For `kind: 'value'`. */
  readonly value?: unknown;
}

type ErrorClass = { readonly name: string; readonly prototype: unknown };

function isCorralClass(value: unknown): value is ErrorClass {
  return (
    typeof value === 'function' &&
    (value === corral.CorralError || value.prototype instanceof corral.CorralError)
  );
}

/**
 * corral's error classes by name, to rebuild them with their prototype: every one the
 * package exports, and the queue's own.
 */
const CLASSES: Readonly<Record<string, ErrorClass>> = Object.fromEntries(
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
  if (wire.kind === 'value') return 'value' in wire ? wire.value : new Error(wire.message);
  const known = CLASSES[wire.name];
  const corral = known !== undefined && typeof wire.props['code'] === 'string';
  const error = corral
    ? (Object.create(known.prototype as object) as Error)
    : new Error(wire.message);
  if (corral) {
    Object.defineProperty(error, 'message', {
      value: wire.message,
      configurable: true,
      writable: true,
      enumerable: false,
    });
  }
  Object.defineProperty(error, 'name', {
    value: wire.name,
    configurable: true,
    writable: true,
    enumerable: false,
  });
  if (wire.cause !== undefined) {
    Object.defineProperty(error, 'cause', {
      value: fromWire(wire.cause),
      configurable: true,
      writable: true,
      enumerable: false,
    });
  }
  Object.assign(error, wire.props);
  if (wire.stack !== undefined) {
    Object.defineProperty(error, 'stack', {
      value: wire.stack,
      configurable: true,
      writable: true,
      enumerable: false,
    });
  }
  return error;
}

/**
 * Errors crossing from a host to its client. `node:v8` serialisation keeps an Error's
 * message, stack and cause but drops its `code`, its own properties and its class, so an
 * error travels as plain data and is rebuilt on the client: corral's own errors as
 * instances of their classes (so `instanceof` works as with a local pool), anything a task
 * threw as an `Error` with its name, message, stack, `code` and own properties.
 *
 * @module
 */
import { serialize } from 'node:v8';
import {
  AbortError,
  CorralError,
  DataCloneError,
  InvalidOptionError,
  JobTimeoutError,
  ModuleLoadError,
  PoolClosedError,
  QueueFullError,
  UnknownTaskError,
  WorkerCrashedError,
  WorkerInitError,
  WorkerStartupError,
} from '../../index.js';
import { HostLostError, PayloadTooLargeError } from './errors.js';

/** An error as plain data. */
export interface WireError {
  /** `error`: an Error, field by field; `value`: something else was thrown, sent as is. */
  readonly kind: 'error' | 'value';
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** Own enumerable properties that serialise (`code` among them). */
  readonly props: Record<string, unknown>;
  readonly cause: WireError | undefined;
  /** For `kind: 'value'`. */
  readonly value?: unknown;
}

/** corral's error classes by name, to rebuild them with their prototype. */
const CLASSES: Readonly<Record<string, { prototype: CorralError }>> = {
  AbortError,
  CorralError,
  DataCloneError,
  InvalidOptionError,
  JobTimeoutError,
  ModuleLoadError,
  PoolClosedError,
  QueueFullError,
  UnknownTaskError,
  WorkerCrashedError,
  WorkerInitError,
  WorkerStartupError,
  HostLostError,
  PayloadTooLargeError,
};

function serialisable(value: unknown): boolean {
  if (typeof value === 'function' || typeof value === 'symbol') return false;
  if (value === null || typeof value !== 'object') return true;
  try {
    serialize(value);
    return true;
  } catch {
    return false;
  }
}

/** Turns anything thrown into serialisable data. Never throws. */
export function toWire(thrown: unknown, depth = 0): WireError {
  if (!(thrown instanceof Error)) {
    const ok = serialisable(thrown);
    return {
      kind: 'value',
      name: 'Error',
      message: ok ? String(thrown) : `a non-serialisable value was thrown: ${typeof thrown}`,
      stack: undefined,
      props: {},
      cause: undefined,
      ...(ok ? { value: thrown } : {}),
    };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(thrown)) {
    if (key === 'cause') continue;
    const value = (thrown as unknown as Record<string, unknown>)[key];
    if (serialisable(value)) props[key] = value;
  }
  // CorralError sets `code` as an own property; name lives on the instance too.
  return {
    kind: 'error',
    name: thrown.name,
    message: thrown.message,
    stack: thrown.stack,
    props,
    cause: thrown.cause !== undefined && depth < 4 ? toWire(thrown.cause, depth + 1) : undefined,
  };
}

/** Rebuilds what {@link toWire} made: corral's errors with their class, others as `Error`. */
export function fromWire(wire: WireError): unknown {
  if (wire.kind === 'value') return 'value' in wire ? wire.value : new Error(wire.message);
  const known = CLASSES[wire.name];
  const corral = known !== undefined && typeof wire.props['code'] === 'string';
  const error = corral ? (Object.create(known.prototype) as Error) : new Error(wire.message);
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

/**
 * Errors crossing the thread boundary. Structured clone keeps only an Error's
 * name and message (and drops `code`, own properties and subclass), so an error
 * is turned into plain data on one side and rebuilt on the other.
 */
import { DataCloneError } from '../util/errors.js';

/** An error as plain, cloneable data. */
export interface WireError {
  /**
   * `error`: an Error rebuilt field by field; `value`: something else was thrown, sent as
   * is; `data-clone`: a result could not be cloned (rebuilt as corral's `DataCloneError`).
   */
  kind: 'error' | 'value' | 'data-clone';
  name: string;
  message: string;
  stack: string | undefined;
  /** Own enumerable properties that survive cloning (`code` among them). */
  props: Record<string, unknown>;
  cause: WireError | undefined;
  /** Whether the task marked it retryable (see `retryable()` in `corral/worker`). */
  retry: boolean;
  /** For `kind: 'value'`: the thrown value (already checked to be cloneable). */
  value?: unknown;
}

/** Marks errors a task asked to retry. A symbol cannot cross threads, so the flag travels in `retry`. */
export const RETRYABLE = Symbol.for('corral.retryable');

function cloneable(value: unknown): boolean {
  if (value === null || typeof value !== 'object') {
    return typeof value !== 'function' && typeof value !== 'symbol';
  }
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * The own enumerable properties of `value` that can be cloned; functions and other
 * uncloneable ones are left out. A property whose getter throws is left out too.
 */
function cloneableProps(value: object, skip?: string): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (key === skip) continue;
    try {
      const prop = (value as Record<string, unknown>)[key];
      if (cloneable(prop)) props[key] = prop;
    } catch {
      // A throwing getter: the property cannot be sent.
    }
  }
  return props;
}

/** `String(value)`, or a description when the value cannot be turned into a string. */
function show(value: unknown): string {
  try {
    return String(value);
  } catch {
    return `a value of type ${typeof value}`;
  }
}

/** Turns anything thrown into cloneable data. Never throws. */
export function toWire(thrown: unknown, depth = 0): WireError {
  if (!(thrown instanceof Error)) {
    // An object carrying a function (a `toJSON`, a callback) keeps its data: only what
    // cannot cross is dropped.
    let value: unknown = thrown;
    let ok = cloneable(value);
    if (!ok && typeof thrown === 'object' && thrown !== null) {
      value = cloneableProps(thrown);
      ok = cloneable(value);
    }
    return {
      kind: 'value',
      name: 'Error',
      message: ok ? show(value) : `a non-cloneable value was thrown: ${typeof thrown}`,
      stack: undefined,
      props: {},
      cause: undefined,
      retry: false,
      ...(ok ? { value } : {}),
    };
  }
  const marked = (thrown as unknown as Record<symbol, unknown>)[RETRYABLE] === true;
  return {
    kind: 'error',
    name: thrown.name,
    message: thrown.message,
    stack: thrown.stack,
    props: cloneableProps(thrown, 'cause'),
    cause: thrown.cause !== undefined && depth < 4 ? toWire(thrown.cause, depth + 1) : undefined,
    retry: marked,
  };
}

/** A result that `postMessage` could not clone, as data the main thread rebuilds as a `DataCloneError`. */
export function cloneFailure(error: unknown): WireError {
  return {
    kind: 'data-clone',
    name: 'DataCloneError',
    message: "the job's result could not be cloned",
    stack: undefined,
    props: { code: 'ERR_DATA_CLONE' },
    cause: toWire(error),
    retry: false,
  };
}

/**
 * corral's error classes by name (`name` to class), for {@link fromWire} to rebuild an
 * error as an instance of its class: a remote pool's client passes every class the
 * package exports, so `instanceof` works as with a local pool.
 */
export type ErrorClasses = Readonly<Record<string, { readonly prototype: unknown }>>;

/** Sets a property as an Error's own ones are: writable, configurable, not enumerable. */
function own(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    configurable: true,
    writable: true,
    enumerable: false,
  });
}

/**
 * Rebuilds an Error (with name, message, stack, `code`, `cause` and own properties) from
 * {@link toWire}'s data; a thrown non-Error comes back as it was. With `classes`, an error
 * whose name is one of them and which carries a string `code` (corral's own) is rebuilt as
 * an instance of that class; any other as an `Error`.
 */
export function fromWire(wire: WireError, classes?: ErrorClasses): unknown {
  if (wire.kind === 'value') {
    return 'value' in wire ? wire.value : new Error(wire.message);
  }
  const cause = wire.cause === undefined ? undefined : fromWire(wire.cause, classes);
  if (wire.kind === 'data-clone') {
    return new DataCloneError('result', wire.cause === undefined ? undefined : { cause });
  }
  const known = classes?.[wire.name];
  let error: Error;
  if (known !== undefined && typeof wire.props['code'] === 'string') {
    error = Object.create(known.prototype as object) as Error;
    own(error, 'message', wire.message);
    if (wire.cause !== undefined) own(error, 'cause', cause);
  } else {
    error = new Error(wire.message, wire.cause === undefined ? undefined : { cause });
  }
  own(error, 'name', wire.name);
  Object.assign(error, wire.props);
  if (wire.stack !== undefined) own(error, 'stack', wire.stack);
  return error;
}

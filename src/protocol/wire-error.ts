/**
 * Errors crossing the thread boundary. Structured clone keeps only an Error's
 * name and message (and drops `code`, own properties and subclass), so an error
 * is turned into plain data on one side and rebuilt on the other.
 */

/** An error as plain, cloneable data. */
export interface WireError {
  /** `error`: an Error rebuilt field by field; `value`: something else was thrown, sent as is. */
  kind: 'error' | 'value';
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

/** Turns anything thrown into cloneable data. Never throws. */
export function toWire(thrown: unknown, depth = 0): WireError {
  if (!(thrown instanceof Error)) {
    const ok = cloneable(thrown);
    return {
      kind: 'value',
      name: 'Error',
      message: ok ? String(thrown) : `a non-cloneable value was thrown: ${typeof thrown}`,
      stack: undefined,
      props: {},
      cause: undefined,
      retry: false,
      ...(ok ? { value: thrown } : {}),
    };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(thrown)) {
    if (key === 'cause') continue;
    const value = (thrown as unknown as Record<string, unknown>)[key];
    if (cloneable(value)) props[key] = value;
  }
  const marked = (thrown as unknown as Record<symbol, unknown>)[RETRYABLE] === true;
  return {
    kind: 'error',
    name: thrown.name,
    message: thrown.message,
    stack: thrown.stack,
    props,
    cause: thrown.cause !== undefined && depth < 4 ? toWire(thrown.cause, depth + 1) : undefined,
    retry: marked,
  };
}

/** Rebuilds an Error (with name, message, stack, `code` and own properties) from {@link toWire}'s data. */
export function fromWire(wire: WireError): unknown {
  if (wire.kind === 'value') {
    return 'value' in wire ? wire.value : new Error(wire.message);
  }
  const error = new Error(
    wire.message,
    wire.cause === undefined ? undefined : { cause: fromWire(wire.cause) },
  );
  Object.defineProperty(error, 'name', {
    value: wire.name,
    configurable: true,
    writable: true,
    enumerable: false,
  });
  Object.assign(error, wire.props);
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}

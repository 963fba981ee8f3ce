/**
 * Trace context on the thread's side: a traced job's task runs with its caller's trace
 * active (the `traceparent` its job carried), inside a consumer span when this thread has
 * a tracer provider (registered by the module's `init()`, say), so the spans the task
 * starts are children of the caller's. The API's state is per thread: unless `init()`
 * registered a context manager, the first traced job registers one on AsyncLocalStorage
 * (without one, the API has no active context at all), so async tasks keep it too.
 *
 * `@opentelemetry/api` is looked up at the first traced job only: a pool whose callers
 * trace nothing never loads it in its threads.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';
import { parseTraceParent } from '../src/protocol/traceparent.js';

/** The API: undefined until a traced job came, null if it is not installed. */
let api: typeof Api | null | undefined;

function load(): typeof Api | null {
  if (api === undefined) {
    try {
      api = createRequire(import.meta.url)('@opentelemetry/api') as typeof Api;
    } catch {
      api = null;
    }
    // Refused (quietly) if the module's init() registered its own.
    if (api !== null) api.context.setGlobalContextManager(new ThreadContextManager(api));
  }
  return api;
}

/** The API's active context on AsyncLocalStorage, as the SDK's context manager keeps it. */
class ThreadContextManager implements Api.ContextManager {
  readonly #store = new AsyncLocalStorage<Api.Context>();
  readonly #root: Api.Context;

  constructor(otel: typeof Api) {
    this.#root = otel.ROOT_CONTEXT;
  }

  active(): Api.Context {
    return this.#store.getStore() ?? this.#root;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Api.Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#store.run(context, () => fn.call(thisArg, ...args));
  }

  bind<T>(context: Api.Context, target: T): T {
    if (typeof target !== 'function') return target;
    const fn = target as (...args: unknown[]) => unknown;
    return ((...args: unknown[]) => this.with(context, fn, undefined, ...args)) as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.#store.disable();
    return this;
  }
}

/** Runs `fn` (a task's call) in the trace context `traceparent`; its result as it is. */
export function runTraced(traceparent: string, task: string, fn: () => unknown): unknown {
  const otel = load();
  const parent = parseTraceParent(traceparent);
  if (otel === null || parent === undefined) return fn();
  const remote = otel.trace.setSpanContext(otel.context.active(), { ...parent, isRemote: true });
  const span = otel.trace
    .getTracer('corral')
    .startSpan(
      `${task} process`,
      { kind: otel.SpanKind.CONSUMER, attributes: { 'corral.task': task } },
      remote,
    );
  const failed = (error: unknown): void => {
    if (error instanceof Error) span.recordException(error);
    span.setStatus({
      code: otel.SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    span.end();
  };
  let result: unknown;
  try {
    result = otel.context.with(otel.trace.setSpan(remote, span), fn);
  } catch (error) {
    failed(error);
    throw error;
  }
  if (typeof (result as PromiseLike<unknown> | null)?.then === 'function') {
    (result as PromiseLike<unknown>).then(() => {
      span.end();
    }, failed);
  } else span.end();
  return result;
}

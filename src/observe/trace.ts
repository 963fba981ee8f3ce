/**
 * Trace context on the caller's side: a job submitted while a span is active gets a
 * producer span of its own (a child of the caller's), whose `traceparent` travels with the
 * job so the thread runs the task inside it (workers/trace.ts).
 *
 * `@opentelemetry/api` is an optional peer dependency, looked up once when this module
 * loads; without it, or for a job submitted with no span active, {@link startJobSpan}
 * returns undefined after one test, and the job carries nothing.
 *
 * @module
 */
import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';
import { formatTraceParent } from '../protocol/traceparent.js';

/** The OpenTelemetry API if it is installed. Its state is global (keyed by its major version), so this copy sees the SDK the application registered. */
const api: typeof Api | undefined = (() => {
  try {
    return createRequire(import.meta.url)('@opentelemetry/api') as typeof Api;
  } catch {
    return undefined;
  }
})();

/** A traced job's producer span, ended when the job settles. */
export interface JobSpan {
  /** The span's W3C `traceparent`, for the thread (or host) that runs the job. */
  readonly traceparent: string;
  end(ok: boolean, value: unknown): void;
}

/** Starts the producer span of a job of `task`, if a span is active; else undefined. */
export function startJobSpan(task: string, system: string): JobSpan | undefined {
  if (api === undefined) return undefined;
  const active = api.context.active();
  if (api.trace.getSpan(active) === undefined) return undefined;
  const span = api.trace.getTracer('corral').startSpan(
    `${task} send`,
    {
      kind: api.SpanKind.PRODUCER,
      attributes: { 'corral.task': task, 'messaging.system': system },
    },
    active,
  );
  const { SpanStatusCode } = api;
  return {
    traceparent: formatTraceParent(span.spanContext()),
    end(ok, value) {
      if (!ok) {
        if (value instanceof Error) span.recordException(value);
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: value instanceof Error ? value.message : String(value),
        });
      }
      span.end();
    },
  };
}

/**
 * A span started elsewhere (a work queue's client, whose producer span a host's job
 * carries): the job runs in its context; it is ended where it was started.
 */
export function carriedSpan(traceparent: string): JobSpan {
  return {
    traceparent,
    end() {
      // Not this process's span to end.
    },
  };
}

/**
 * The trace tests' common part, for a local and a remote pool alike: an in-memory exporter
 * installed as the global tracer for the file, and the check of one trace from a caller's
 * span through the job's producer span and the thread's consumer span to the task's own.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** A span's ids, as the fixture `trace-tasks.mjs` reports them. */
export interface Ids {
  traceId: string;
  spanId: string;
}
/** A span the thread ended, as the `spans` task of `trace-tasks.mjs` reports it. */
export interface ThreadSpan extends Ids {
  name: string;
  kind: number;
  parentSpanId: string | null;
}
/** What the `child` task of `trace-tasks.mjs` returns. */
export interface ChildResult {
  active: Ids | null;
  child: Ids;
}
/** Runs a task of `trace-tasks.mjs` on the pool under test. */
export type RunTask = <T>(task: string) => Promise<T>;

/** Installs an in-memory exporter as the global tracer for this test file; returns it. */
export function useTracing(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
  });
  afterAll(() => {
    trace.disable();
    context.disable();
  });
  return exporter;
}

/**
 * Runs the `child` task inside a caller's span and checks the one trace: the producer span
 * is the caller's child, the task ran in the caller's trace, and the thread's consumer span
 * (reported by the untraced `spans` task that follows) is the producer's child and the
 * parent of the task's own span. Returns what the later checks of a caller need.
 */
export async function expectOneTrace(
  exporter: InMemorySpanExporter,
  run: RunTask,
): Promise<{ result: ChildResult; consumer: ThreadSpan | undefined; threadSpans: ThreadSpan[] }> {
  exporter.reset();
  const { caller, result } = await trace
    .getTracer('test')
    .startActiveSpan('caller', async (span) => {
      const r = await run<ChildResult>('child');
      span.end();
      return { caller: span.spanContext(), result: r };
    });
  const producer = exporter.getFinishedSpans().find((s) => s.name === 'child send');
  expect(producer?.kind).toBe(SpanKind.PRODUCER);
  expect(producer?.spanContext().traceId).toBe(caller.traceId);
  expect(producer?.parentSpanContext?.spanId).toBe(caller.spanId);
  expect(result.active?.traceId).toBe(caller.traceId);
  expect(result.child.traceId).toBe(caller.traceId);
  // Asked with no span active: this job is not traced, and reports the thread's spans.
  const threadSpans = await run<ThreadSpan[]>('spans');
  const consumer = threadSpans.find((s) => s.name === 'child process');
  const own = threadSpans.find((s) => s.name === 'task-child');
  expect(consumer).toMatchObject({
    kind: SpanKind.CONSUMER,
    traceId: caller.traceId,
    parentSpanId: producer?.spanContext().spanId,
  });
  expect(own).toMatchObject({ traceId: caller.traceId, parentSpanId: consumer?.spanId });
  return { result, consumer, threadSpans };
}

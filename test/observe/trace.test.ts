import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Pool } from 'corral';
import { fixture, rejection } from '../helpers/index.js';
import { formatTraceParent, parseTraceParent } from '#internal/protocol/traceparent.js';

const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();
const tracer = (): ReturnType<typeof trace.getTracer> => trace.getTracer('test');

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
});
afterAll(() => {
  trace.disable();
  context.disable();
});

interface ThreadSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
}
interface Ids {
  traceId: string;
  spanId: string;
}

describe('traceparent', () => {
  it('round-trips and refuses what is not one', () => {
    const p = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 };
    expect(formatTraceParent(p)).toBe(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`);
    expect(parseTraceParent(formatTraceParent(p))).toEqual(p);
    expect(parseTraceParent(`00-${'0'.repeat(32)}-${'b'.repeat(16)}-01`)).toBeUndefined();
    expect(parseTraceParent('garbage')).toBeUndefined();
    expect(parseTraceParent(42)).toBeUndefined();
  });
});

describe('trace context from the caller to the task', () => {
  it("one trace: caller -> producer span -> thread's consumer span -> the task's own span", async () => {
    exporter.reset();
    const pool = new Pool({ module: fixture('trace-tasks.mjs'), threads: 1 });
    try {
      await pool.ready();
      let callerIds: Ids | undefined;
      const result = await tracer().startActiveSpan('caller', async (span) => {
        callerIds = span.spanContext();
        const r = await pool.do<{ active: Ids | null; child: Ids }>(null, { task: 'child' });
        span.end();
        return r;
      });
      const caller = callerIds as Ids;
      // Main thread: the caller's span and the job's producer span, its child.
      const main = exporter.getFinishedSpans();
      const producer = main.find((s) => s.name === 'child send');
      expect(producer).toBeDefined();
      expect(producer?.kind).toBe(SpanKind.PRODUCER);
      expect(producer?.spanContext().traceId).toBe(caller.traceId);
      expect(producer?.parentSpanContext?.spanId).toBe(caller.spanId);
      // The thread: the task ran in the trace, its own span a child of the consumer span.
      expect(result.active?.traceId).toBe(caller.traceId);
      expect(result.child.traceId).toBe(caller.traceId);
      const threadSpans = await pool.do<ThreadSpan[]>(null, { task: 'spans' });
      const consumer = threadSpans.find((s) => s.name === 'child process');
      const own = threadSpans.find((s) => s.name === 'task-child');
      expect(consumer).toMatchObject({
        kind: SpanKind.CONSUMER,
        traceId: caller.traceId,
        parentSpanId: producer?.spanContext().spanId,
      });
      expect(own).toMatchObject({ traceId: caller.traceId, parentSpanId: consumer?.spanId });
      expect(result.active?.spanId).toBe(consumer?.spanId);
    } finally {
      await pool.shutdown();
    }
  });

  it('a job submitted with no span active carries nothing', async () => {
    exporter.reset();
    const pool = new Pool({ module: fixture('trace-tasks.mjs'), threads: 1 });
    try {
      const result = await pool.do<{ active: Ids | null }>(null, { task: 'child' });
      expect(result.active).toBeNull();
      expect(exporter.getFinishedSpans()).toHaveLength(0);
    } finally {
      await pool.shutdown();
    }
  });

  it("without a provider in the thread, the task still runs in the caller's trace", async () => {
    const pool = new Pool({
      module: fixture('trace-tasks.mjs'),
      threads: 1,
      workerData: 'no-provider',
    });
    try {
      const { caller, result } = await tracer().startActiveSpan('caller', async (span) => {
        const r = await pool.do<{ active: Ids | null }>(null, { task: 'child' });
        span.end();
        return { caller: span.spanContext(), result: r };
      });
      expect(result.active?.traceId).toBe(caller.traceId);
    } finally {
      await pool.shutdown();
    }
  });

  it("a failed job's spans say so", async () => {
    exporter.reset();
    const pool = new Pool({ module: fixture('trace-tasks.mjs'), threads: 1 });
    try {
      await tracer().startActiveSpan('caller', async (span) => {
        await rejection(pool.do(null, { task: 'boom' }));
        span.end();
      });
      const producer = exporter.getFinishedSpans().find((s) => s.name === 'boom send');
      expect(producer?.status).toMatchObject({ code: 2, message: 'boom' });
      const threadSpans = await pool.do<ThreadSpan[]>(null, { task: 'spans' });
      expect(threadSpans.map((s) => s.name)).toContain('boom process');
    } finally {
      await pool.shutdown();
    }
  });
});

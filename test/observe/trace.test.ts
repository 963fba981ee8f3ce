import { describe, expect, it } from 'vitest';
import { trace } from '@opentelemetry/api';
import { Pool } from 'corral';
import { fixture, rejection } from '../helpers/index.js';
import { expectOneTrace, useTracing, type Ids, type ThreadSpan } from '../helpers/trace.js';
import { formatTraceParent, parseTraceParent } from '#internal/protocol/traceparent.js';

const exporter = useTracing();
const tracer = (): ReturnType<typeof trace.getTracer> => trace.getTracer('test');

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
      const { result, consumer } = await expectOneTrace(exporter, (task) =>
        pool.do(null, { task }),
      );
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

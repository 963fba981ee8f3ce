/**
 * Trace context across the work queue: a job submitted to a RemotePool inside an active
 * span gets a producer span, whose `traceparent` travels in the job message to the host;
 * the host's thread runs the task in a consumer span of that trace, so the task's own spans
 * join the caller's trace. The host runs in this process, so this exporter sees the
 * client's spans and the `spans` task reports the thread's.
 */
import { describe, expect, it } from 'vitest';
import { context, trace } from '@opentelemetry/api';
import { serve, type Host } from 'corral/nats';
import { fixture, rejection } from '../../helpers/index.js';
import { remotePool, uniqueQueue, useQueueCluster } from '../../helpers/queue.js';
import { expectOneTrace, useTracing, type Ids } from '../../helpers/trace.js';

const cluster = useQueueCluster();
const exporter = useTracing();

async function hostOn(queue: string): Promise<Host> {
  return serve(cluster.nc, queue, { module: fixture('trace-tasks.mjs'), threads: 1 });
}

describe('trace context through the work queue', () => {
  it("one trace: caller -> client's producer span -> host thread's consumer span -> the task's span", async () => {
    exporter.reset();
    const queue = uniqueQueue('trace');
    const pool = await remotePool(cluster.nc, queue);
    const host = await hostOn(queue);
    try {
      const { threadSpans } = await expectOneTrace(exporter, (task) => pool.do(null, { task }));
      expect(threadSpans.filter((s) => s.name === 'spans process')).toHaveLength(0);
    } finally {
      await pool.shutdown();
      await host.drain();
    }
  }, 60_000);

  it("a traced job beside untraced ones, and a failed job's producer span", async () => {
    exporter.reset();
    const queue = uniqueQueue('trace');
    const pool = await remotePool(cluster.nc, queue);
    const host = await hostOn(queue);
    try {
      const { caller, traced, plain, error } = await trace
        .getTracer('test')
        .startActiveSpan('caller', async (span) => {
          const untraced = context.with(context.active(), () =>
            context.with(trace.deleteSpan(context.active()), () =>
              Array.from({ length: 8 }, () =>
                pool.do<{ active: Ids | null }>(null, { task: 'child' }),
              ),
            ),
          );
          const t = pool.do<{ active: Ids | null }>(null, { task: 'child' });
          const e = rejection(pool.do(null, { task: 'boom' }));
          const [r, p, err] = await Promise.all([t, Promise.all(untraced), e]);
          span.end();
          return { caller: span.spanContext(), traced: r, plain: p, error: err };
        });
      expect(traced.active?.traceId).toBe(caller.traceId);
      expect(plain.every((r) => r.active === null)).toBe(true);
      expect(error.message).toBe('boom');
      const boom = exporter.getFinishedSpans().find((s) => s.name === 'boom send');
      expect(boom?.status).toMatchObject({ code: 2, message: 'boom' });
      expect(boom?.spanContext().traceId).toBe(caller.traceId);
    } finally {
      await pool.shutdown();
      await host.drain();
    }
  }, 60_000);
});

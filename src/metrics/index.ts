/**
 * `corral/metrics`: a pool's metrics for Prometheus, with prom-client (an optional peer
 * dependency: `npm install prom-client`). See docs/observability.md.
 *
 * @example
 * ```ts
 * import { registerMetrics, serveMetrics } from 'corral/metrics';
 * registerMetrics(pool, { labels: { pool: 'thumbnails' } });
 * await serveMetrics({ port: 9464 }); // http://127.0.0.1:9464/metrics
 * ```
 *
 * @module
 */
export {
  registerMetrics,
  type MetricsOptions,
  type MetricsPool,
  type MetricsRemotePool,
  type MetricsQueueInfo,
} from './register.js';
export { serveMetrics, type ServeMetricsOptions, type MetricsServer } from './serve.js';
export { JOB_SECONDS_BUCKETS } from './tally.js';
export { PromClientMissingError } from './errors.js';

/**
 * `--metrics-port N` of `corral serve` and `corral map`: a pool's metrics served at
 * `/metrics` for Prometheus while the command runs (see src/metrics/).
 *
 * @module
 */
import type {
  MetricsOptions,
  MetricsPool,
  MetricsRemotePool,
  MetricsServer,
} from '../metrics/index.js';

/** The flags, as commander gives them. */
export interface MetricsFlags {
  metricsPort?: number | undefined;
  metricsHost?: string | undefined;
}

/** A metrics server that stops with the command (`await using`). */
export type CommandMetrics = MetricsServer & AsyncDisposable;

/**
 * Serves the metrics of `target` on `--metrics-host` (127.0.0.1 by default) and
 * `--metrics-port`, in a registry of their own. Throws `ERR_PROM_CLIENT_MISSING` if
 * prom-client is not installed.
 */
export async function serveCommandMetrics(
  flags: MetricsFlags & { metricsPort: number },
  target: MetricsPool | MetricsRemotePool,
  options: Omit<MetricsOptions, 'registry'>,
): Promise<CommandMetrics> {
  // Loaded only when asked for: prom-client is an optional peer dependency.
  const metrics = await import('../metrics/entry.js');
  const { Registry } = await import('prom-client');
  const registry = new Registry();
  const unregister = metrics.registerMetrics(target, { ...options, registry });
  const server = await metrics.serveMetrics({
    registry,
    port: flags.metricsPort,
    ...(flags.metricsHost === undefined ? {} : { host: flags.metricsHost }),
  });
  const close = async (): Promise<void> => {
    unregister();
    await server.close();
  };
  return { url: server.url, port: server.port, close, [Symbol.asyncDispose]: close };
}

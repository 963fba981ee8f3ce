/**
 * `serveMetrics`: a registry's `/metrics` over HTTP, in the Prometheus text format.
 *
 * @module
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { register as defaultRegistry, type Registry } from 'prom-client';
import { checkIntegerIn, checkNonEmptyString, checkObject } from '../util/validate.js';

/** Options of {@link serveMetrics}. */
export interface ServeMetricsOptions {
  /** Where the metrics are. @default prom-client's default registry */
  registry?: Registry;
  /** The TCP port; 0 for any free one. @default 9464 */
  port?: number;
  /** The address to listen on. @default '127.0.0.1' (this machine only) */
  host?: string;
}

/** A running metrics server. */
export interface MetricsServer {
  /** `http://host:port/metrics`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (any other path: 404) on 127.0.0.1 unless told otherwise.
 *
 * @example
 * ```ts
 * registerMetrics(pool);
 * const server = await serveMetrics({ port: 9464 });
 * // ... scrape http://127.0.0.1:9464/metrics ...
 * await server.close();
 * ```
 */
export async function serveMetrics(options: ServeMetricsOptions = {}): Promise<MetricsServer> {
  checkObject('options', options);
  const registry = options.registry ?? defaultRegistry;
  const port = checkIntegerIn('port', options.port ?? 9464, 0, 65_535);
  const host = checkNonEmptyString('host', options.host ?? '127.0.0.1');
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(req.method === 'GET' ? 404 : 405).end();
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType }).end(text);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${bound}/metrics`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

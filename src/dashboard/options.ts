/**
 * The options of `serveDashboard`, their defaults and their checks.
 *
 * @module
 */
import type { NatsConnection } from '../nats/shared/connection.js';
import { check, checkInteger, checkIntegerIn, invalid } from '../util/validate.js';

/** Options of `serveDashboard`. */
export interface DashboardOptions {
  /**
   * The port to listen on; 0 for any free one (read it back from `dashboard.url`).
   * @default 8080
   */
  readonly port?: number;
  /**
   * The address to listen on. The page is read-only, but shows task names and error
   * messages: listen elsewhere than loopback only on a network you trust.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /**
   * Milliseconds between updates of the page.
   * @default 1000
   */
  readonly interval?: number;
  /** The connection a `RemotePool` was made with (needed to watch its queue and hosts). */
  readonly nc?: NatsConnection;
}

/** {@link DashboardOptions} with the defaults applied. */
export interface ResolvedDashboardOptions {
  readonly port: number;
  readonly host: string;
  readonly interval: number;
  readonly nc: NatsConnection | undefined;
}

/** Checks the options; throws `ERR_INVALID_OPTION` naming the option and the value received. */
export function resolveDashboardOptions(options: unknown): ResolvedDashboardOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) invalid('options', 'an object', options);
  const given = options as Record<string, unknown>;
  for (const [name, value] of Object.entries(given)) {
    if (!['port', 'host', 'interval', 'nc'].includes(name))
      invalid(name, 'a known option (port, host, interval, nc)', value);
  }
  const host = given['host'] ?? '127.0.0.1';
  check(typeof host === 'string' && host !== '', 'host', 'a non-empty string', host);
  const nc = given['nc'];
  check(
    nc === undefined || (typeof nc === 'object' && nc !== null && 'subscribe' in nc),
    'nc',
    'a NATS connection',
    nc,
  );
  return {
    port: checkIntegerIn('port', given['port'] ?? 8080, 0, 65_535),
    host: host as string,
    interval: checkInteger('interval', given['interval'] ?? 1000, 100),
    nc: nc as NatsConnection | undefined,
  };
}

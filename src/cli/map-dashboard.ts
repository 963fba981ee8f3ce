/**
 * `corral map ... --dashboard [PORT]`: the live page of the run (see `serveDashboard`),
 * served from the start of the run to its end.
 *
 * @module
 */
import type { Pool } from '../pool/pool.js';
import type { QueueTarget } from '../dashboard/index.js';

/** The port of `--dashboard` without one. */
export const DASHBOARD_PORT = 8080;

/** What the page of a run watches: the local pool, or the queue with the run's client. */
export type DashboardTarget = Pool | QueueTarget;

/**
 * Serves the page on `port` (nothing if undefined) and says where on stderr; disposing the
 * result stops it.
 */
export async function startMapDashboard(
  port: number | undefined,
  target: DashboardTarget,
): Promise<AsyncDisposable | undefined> {
  if (port === undefined) return undefined;
  // Loaded only when asked for: a plain run does not load the HTTP server.
  const { serveDashboard } = await import('../dashboard/index.js');
  const dashboard = await serveDashboard(target, { port });
  process.stderr.write(`corral map: dashboard on ${dashboard.url}\n`);
  return dashboard;
}

// @ts-check
/**
 * corral's work queue (`corral/nats`: `RemotePool` and `serve`), loaded from its build output at
 * run time. The types below describe only the part of its API the bench uses; a build without
 * the work queue fails the queue contestant (an error row) and nothing else.
 */
import { URL } from 'node:url';

/** @typedef {import('../lib/contestant.js').Outcome} Outcome */
/** @typedef {import('@nats-io/transport-node').NatsConnection} NatsConnection */

/**
 * @typedef {object} RemotePool
 * @property {() => Promise<void>} ready
 * @property {(input: unknown, options: { task: string }) => Promise<unknown>} do
 * @property {(inputs: Iterable<unknown>, options: { task: string }) => AsyncIterable<Outcome & { index: number }>} execute
 * @property {(inputs: AsyncIterable<unknown>, options: { task: string }) => AsyncIterable<Outcome>} wrap
 * @property {() => Promise<void>} shutdown
 */

/** @typedef {new (nc: NatsConnection, queue: string, options?: object) => RemotePool} RemotePoolClass */

/**
 * @typedef {object} Host
 * @property {() => Promise<void>} drain
 * @property {() => Promise<void>} closed
 */

/** @typedef {(nc: NatsConnection, queue: string, options: { module: URL, threads: number }) => Promise<Host>} Serve */

const entry = new URL('../../dist/src/nats/index.js', import.meta.url);

/** @returns {Promise<{ RemotePool: RemotePoolClass, serve: Serve }>} */
export async function loadCorralNats() {
  /** @type {unknown} */
  const mod = await import(entry.href);
  if (
    typeof mod !== 'object' ||
    mod === null ||
    !('RemotePool' in mod) ||
    typeof mod.RemotePool !== 'function' ||
    !('serve' in mod) ||
    typeof mod.serve !== 'function'
  ) {
    throw new Error(
      `corral's work queue is not built: ${entry.pathname} has no RemotePool and serve exports (npm run build)`,
    );
  }
  return {
    RemotePool: /** @type {RemotePoolClass} */ (/** @type {unknown} */ (mod.RemotePool)),
    serve: /** @type {Serve} */ (/** @type {unknown} */ (mod.serve)),
  };
}

/**
 * Connecting to NATS for the CLI. The classes of `corral/nats` never connect: they take a
 * connection (`./connection.ts`), so applications choose the transport and its options.
 *
 * @module
 */
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { isNatsClientMissing, NatsClientMissingError, NatsConnectError } from './errors.js';

/** The server used when neither `--server` nor `NATS_URL` names one. */
export const DEFAULT_SERVER = 'nats://127.0.0.1:4222';

/** Options of {@link connectNats}. */
export interface ConnectOptions {
  /**
   * The server URL, or several separated by commas.
   * @default process.env.NATS_URL, else {@link DEFAULT_SERVER}
   */
  readonly server?: string | undefined;
  /** More options for `connect()` of `@nats-io/transport-node`. */
  readonly options?: Omit<NodeConnectionOptions, 'servers'>;
}

/** The servers {@link connectNats} would use. */
function resolveServers(server?: string): string {
  const chosen = server ?? process.env['NATS_URL'];
  return chosen === undefined || chosen.trim() === '' ? DEFAULT_SERVER : chosen;
}

/**
 * Connects to NATS, failing with {@link NatsConnectError} (`ERR_NATS_CONNECT`) and the
 * server's address if it cannot.
 *
 * @example
 * ```ts
 * const nc = await connectNats({ server: 'nats://10.0.0.5:4222' });
 * ```
 */
export async function connectNats(options: ConnectOptions = {}): Promise<NatsConnection> {
  // Loaded here, not at the top, so that the CLI starts without the NATS client installed.
  const { connect } = await import('@nats-io/transport-node').catch((error: unknown) => {
    throw isNatsClientMissing(error) ? new NatsClientMissingError({ cause: error }) : error;
  });
  const servers = resolveServers(options.server);
  try {
    return await connect({
      ...options.options,
      servers: servers.split(',').map((s) => s.trim()),
    });
  } catch (error) {
    throw new NatsConnectError(servers, { cause: error });
  }
}

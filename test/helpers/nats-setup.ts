/**
 * Shared setup of the NATS test files: one real nats-server per file, connections that are
 * closed afterwards, and helpers to look at a governor's stream directly.
 */
import { jetstreamManager, type StoredMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll } from 'vitest';
import { startNatsServer, type NatsServer } from './nats-server.js';

/** A nats-server for the current test file, and connections to it. */
export interface NatsFixture {
  /** The server; valid inside tests. */
  readonly server: NatsServer;
  /** A connection opened before the tests; valid inside tests. */
  readonly nc: NatsConnection;
  /** Opens another connection, closed after the file's tests. */
  connect(options?: Parameters<typeof connect>[0]): Promise<NatsConnection>;
}

/** Starts a nats-server before the file's tests and stops it after. */
export function useNatsServer(): NatsFixture {
  let server: NatsServer | undefined;
  let nc: NatsConnection | undefined;
  const connections: NatsConnection[] = [];
  const fixture: NatsFixture = {
    get server() {
      if (server === undefined) throw new Error('the nats-server is not started');
      return server;
    },
    get nc() {
      if (nc === undefined) throw new Error('the nats-server is not started');
      return nc;
    },
    async connect(options = {}) {
      const connection = await connect({ servers: fixture.server.url, ...options });
      connections.push(connection);
      return connection;
    },
  };
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await fixture.connect();
  });
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
    await server?.close();
  });
  return fixture;
}

let counter = 0;

/** A governor name no other test in this process uses. */
export function uniqueName(prefix = 'g'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

/** Every message in a governor's stream, read directly from JetStream. */
export async function storedEntries(nc: NatsConnection, governor: string): Promise<StoredMsg[]> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const stream = `GOVERNOR_${governor}`;
  const info = await jsm.streams.info(stream);
  const messages: StoredMsg[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && seq > 0; seq++) {
    const message = await jsm.streams.getMessage(stream, { seq });
    if (message !== null) messages.push(message);
  }
  return messages;
}

/** Resolves once `check()` is true, polling every 50 ms; rejects after `timeout` ms. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeout = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

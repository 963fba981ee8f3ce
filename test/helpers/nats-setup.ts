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

/** What `watchPublished` has seen so far. */
export interface Published {
  /** How many messages were published on the subject. */
  count(): number;
  /** How many on each subject it matched: with a wildcard, one subject per campaign. */
  readonly bySubject: ReadonlyMap<string, number>;
  stop(): void;
}

/**
 * Counts the messages published on `subject` (campaign tries and refreshes) from now on.
 * A governor's subjects are `corral.governor.<name>.<campaign>` unless it was created with
 * another: so `corral.governor.<name>.*` sees every try of every campaign, and says when a
 * campaign has tried, rather than a sleep guessing it.
 */
export async function watchPublished(nc: NatsConnection, subject: string): Promise<Published> {
  let count = 0;
  const bySubject = new Map<string, number>();
  const sub = nc.subscribe(subject, {
    callback: (_error, message) => {
      count += 1;
      bySubject.set(message.subject, (bySubject.get(message.subject) ?? 0) + 1);
    },
  });
  await nc.flush();
  return {
    count: () => count,
    bySubject,
    stop: () => {
      sub.unsubscribe();
    },
  };
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

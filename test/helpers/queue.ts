/**
 * Shared setup of the work-queue tests: hosts as separate OS processes (the built
 * `corral serve`), clients in the test process, and the run log the fixture's `logged` task
 * appends to (`<job> <pid>` per run); `useQueueCluster` sets all of it up for a test file
 * and tears it down after. Needs the build (dist/).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll } from 'vitest';
import type { Outcome } from 'corral';
import { RemotePool, type RemotePoolOptions } from 'corral/nats';
import { useNatsServer } from './nats-setup.js';
import type { NatsServer } from './nats-server.js';

/** The built `corral` executable. */
export const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
/** The task module the hosts serve. */
export const TASKS = fileURLToPath(new URL('../fixtures/queue/tasks.mjs', import.meta.url));
/** A task module that fails to load. */
export const BROKEN = fileURLToPath(new URL('../fixtures/queue/broken.mjs', import.meta.url));

/** Throws unless the build exists: hosts run the built CLI. */
export function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
}

/** The ack wait of the tests' queues: a killed host's jobs come back after this long. */
export const ACK_WAIT = 2000;

/** A host process running `corral serve`. */
export interface HostProcess {
  readonly pid: number;
  /** Resolves once the host says it is serving; rejects if it exits first. */
  readonly ready: Promise<void>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What the host wrote to stderr so far. */
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** How `startHost` runs a host. */
export interface HostOptions {
  /** `--threads` (default 2). */
  threads?: number;
  /** The run log the `logged` task appends to. */
  log?: string;
  /** The span log the `hold` task appends to. */
  spans?: string;
  /** The task module (default TASKS). */
  module?: string;
  /** More arguments of `corral serve`. */
  args?: string[];
}

/** Starts `corral serve TASKS --queue <queue>` against `url`, with the run log in its environment. */
export function startHost(url: string, queue: string, options: HostOptions = {}): HostProcess {
  const args = [
    CLI,
    'serve',
    options.module ?? TASKS,
    '--queue',
    queue,
    '--threads',
    String(options.threads ?? 2),
    '--server',
    url,
    ...(options.args ?? []),
  ];
  const env = {
    ...process.env,
    ...(options.log === undefined ? {} : { CORRAL_RUN_LOG: options.log }),
    ...(options.spans === undefined ? {} : { CORRAL_SPAN_LOG: options.spans }),
  };
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  running.add(child);
  let stderr = '';
  let onReady: () => void = () => undefined;
  let onEarlyExit: (error: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    onEarlyExit = reject;
  });
  ready.catch(() => undefined);
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.includes('serving queue')) onReady();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      onEarlyExit(new Error(`host exited (${signal ?? code}) before serving:\n${stderr}`));
      resolve({ code, signal });
    });
  });
  return {
    pid: child.pid ?? -1,
    ready,
    exited,
    stderr: () => stderr,
    kill: (signal) => child.kill(signal),
  };
}

/** Stops hosts still running (SIGKILL) and waits for them. */
export async function killAll(hosts: readonly HostProcess[]): Promise<void> {
  for (const host of hosts) host.kill('SIGKILL');
  await Promise.all(hosts.map((h) => h.exited));
}

/** A RemotePool whose queue is set up (with the tests' ack wait) before it is returned. */
export async function remotePool(
  nc: NatsConnection,
  queue: string,
  options: RemotePoolOptions = {},
): Promise<RemotePool> {
  const pool = new RemotePool(nc, queue, { ...options, queue: { ackWait: ACK_WAIT } });
  await pool.ready();
  return pool;
}

/** What `useQueueCluster` sets up besides the server and a connection. */
export interface QueueClusterOptions {
  /**
   * Before the tests, also make a queue (`cluster.queue`), a RemotePool on it (`cluster.pool`,
   * shut down by force after the tests) and `hosts` hosts serving it, and wait until they
   * serve. With `logRuns` the hosts append their runs to `cluster.scratch.log`.
   */
  serve?: { hosts: number; logRuns?: boolean };
}

/** A nats-server with hosts and clients on it, for one test file; see `useQueueCluster`. */
export interface QueueCluster {
  /** The server's URL; valid inside tests. */
  readonly url: string;
  /** The server, to stop and start it; valid inside tests. */
  readonly server: NatsServer;
  /** A connection that keeps reconnecting quickly (as a client across a restart needs). */
  readonly nc: NatsConnection;
  /** Every host started through the fixture, in the order started. */
  readonly hosts: readonly HostProcess[];
  /** The queue of `serve`; valid inside tests. */
  readonly queue: string;
  /** The RemotePool of `serve`; valid inside tests. */
  readonly pool: RemotePool;
  /** A temporary directory and a run log path in it, made on first use. */
  readonly scratch: { readonly dir: string; readonly log: string };
  /** Opens another connection like `nc`. */
  connect(): Promise<NatsConnection>;
  /** Starts a host serving `queue`, against this server unless `server` names another. */
  startHost(queue: string, options?: HostOptions & { server?: string }): HostProcess;
  /** Starts `count` hosts serving `queue` and waits until every one is serving. */
  startHosts(queue: string, count: number, options?: HostOptions): Promise<HostProcess[]>;
  /**
   * Makes a fresh queue, a RemotePool on it (shut down by force after the tests, if it is not
   * shut down before) and `count` hosts serving it, and waits until they serve.
   */
  serveQueue(count: number, options?: HostOptions): Promise<ServedQueue>;
}

/** A queue with a client and hosts on it, from `QueueCluster.serveQueue`. */
export interface ServedQueue {
  readonly queue: string;
  readonly pool: RemotePool;
  readonly hosts: HostProcess[];
}

/**
 * Sets up the work-queue tests of one file: a nats-server (and the build check) before its
 * tests; after them, in this order, the pools it made shut down by force, every host started
 * through the fixture killed, the scratch directory removed, every connection closed and the
 * server stopped.
 */
export function useQueueCluster(options: QueueClusterOptions = {}): QueueCluster {
  const nats = useNatsServer();
  const queue = options.serve === undefined ? undefined : uniqueQueue();
  const hosts: HostProcess[] = [];
  const pools: RemotePool[] = [];
  let nc: NatsConnection | undefined;
  let served: ServedQueue | undefined;
  let scratch: ReturnType<typeof tempLog> | undefined;
  const defined = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not set up (outside a test, or no serve)`);
    return value;
  };
  const cluster: QueueCluster = {
    get url() {
      return nats.server.url;
    },
    get server() {
      return nats.server;
    },
    get nc() {
      return defined(nc, 'the connection');
    },
    hosts,
    get queue() {
      return defined(queue, 'the queue');
    },
    get pool() {
      return defined(served, 'the pool').pool;
    },
    get scratch() {
      scratch ??= tempLog();
      return scratch;
    },
    connect: () => nats.connect({ maxReconnectAttempts: -1, reconnectTimeWait: 250 }),
    startHost(name, { server, ...hostOptions } = {}) {
      const host = startHost(server ?? cluster.url, name, hostOptions);
      hosts.push(host);
      return host;
    },
    async startHosts(name, count, hostOptions) {
      const started = Array.from({ length: count }, () => cluster.startHost(name, hostOptions));
      await Promise.all(started.map((h) => h.ready));
      return started;
    },
    serveQueue: (count, hostOptions) => serveOn(uniqueQueue(), count, hostOptions),
  };
  async function serveOn(
    name: string,
    count: number,
    hostOptions?: HostOptions,
  ): Promise<ServedQueue> {
    const pool = await remotePool(cluster.nc, name);
    pools.push(pool);
    return { queue: name, pool, hosts: await cluster.startHosts(name, count, hostOptions) };
  }
  beforeAll(async () => {
    requireBuild();
    nc = await cluster.connect();
    if (options.serve === undefined || queue === undefined) return;
    const log = options.serve.logRuns === true ? { log: cluster.scratch.log } : {};
    served = await serveOn(queue, options.serve.hosts, log);
  });
  // Runs before useNatsServer's afterAll (vitest runs after-hooks last registered first).
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.shutdown({ force: true })));
    await killAll(hosts);
    scratch?.remove();
  });
  return cluster;
}

let counter = 0;

/** A queue name no other test in this process uses. */
export function uniqueQueue(prefix = 'q'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

/** A fresh temporary directory and a run log path inside it. */
export function tempLog(): { dir: string; log: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'corral-queue-'));
  return {
    dir,
    log: join(dir, 'runs.log'),
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The runs in a run log: job number -> the pids that ran it, in order. */
export function readRuns(log: string): Map<number, number[]> {
  const runs = new Map<number, number[]>();
  if (!existsSync(log)) return runs;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (line === '') continue;
    const [job = '', pid = ''] = line.split(' ');
    const n = Number(job);
    runs.set(n, [...(runs.get(n) ?? []), Number(pid)]);
  }
  return runs;
}

/** Collects a stream's outcomes, calling `each` after every one. */
export async function collect<I, R>(
  stream: AsyncIterable<Outcome<I, R>>,
  each?: (count: number) => void | Promise<void>,
): Promise<Outcome<I, R>[]> {
  const outcomes: Outcome<I, R>[] = [];
  for await (const o of stream) {
    outcomes.push(o);
    await each?.(outcomes.length);
  }
  return outcomes;
}

/** The `code` of an error, if it has one. */
export function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null
    ? (error as { code?: unknown }).code
    : undefined;
}

/** What the `logged` task answers. */
export interface Logged {
  n: number;
  pid: number;
}

/** Inputs of the `logged` task: jobs 0..count-1, each busy `ms`. */
export function loggedJobs(count: number, ms = 0): { n: number; ms: number }[] {
  return Array.from({ length: count }, (_, n) => ({ n, ms }));
}

/** The most spans open at once in a `hold` log (`<hrtime> +1` / `<hrtime> -1` lines). */
export function mostAtOnce(log: string): { most: number; spans: number } {
  const events = readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [time = '0', delta = ''] = line.split(' ');
      return { time: BigInt(time), delta: delta === '+1' ? 1 : -1 };
    })
    .sort((a, b) => (a.time === b.time ? b.delta - a.delta : a.time < b.time ? -1 : 1));
  let open = 0;
  let most = 0;
  for (const { delta } of events) {
    open += delta;
    most = Math.max(most, open);
  }
  return { most, spans: events.filter((e) => e.delta === 1).length };
}

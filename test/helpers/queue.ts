/**
 * Shared setup of the work-queue tests: hosts as separate OS processes (the built
 * `corral serve`), clients in the test process, and the run log the fixture's `logged` task
 * appends to (`<job> <pid>` per run). Needs the build (dist/).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Outcome } from 'corral';
import { RemotePool, type RemotePoolOptions } from 'corral/nats';

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

/** Starts `corral serve TASKS --queue <queue>` against `url`, with the run log in its environment. */
export function startHost(
  url: string,
  queue: string,
  options: {
    threads?: number;
    log?: string;
    spans?: string;
    module?: string;
    args?: string[];
  } = {},
): HostProcess {
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

/** A connection that keeps reconnecting quickly, as a client across a server restart needs. */
export function connectClient(url: string): Promise<NatsConnection> {
  return connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
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

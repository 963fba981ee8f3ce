/**
 * `corral serve MODULE --queue NAME`: run a host of a work queue, a local pool of the
 * module taking jobs from the queue, until SIGTERM or SIGINT drains it.
 *
 * Exit codes: 0 drained after a signal (every job it held was run and reported); 1 it
 * stopped serving (the connection closed for good, or its pool failed), the jobs it held go
 * to other hosts after the queue's ack wait; 2 it could not start (usage, module, server,
 * queue) and took no job; 130 a second signal while draining.
 *
 * @module
 */
import { availableParallelism, hostname } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import type { GovernorFor } from '../index.js';
import { connectNats, DEFAULT_SERVER } from '../nats/shared/connect.js';
import {
  describeError,
  duration,
  integer,
  loadNats,
  isolationFlag,
  isolationOption,
  recycleFlags,
  recycleOption,
  type IsolationFlags,
  type Nats,
  type RecycleFlags,
} from './options.js';
import { serveCommandMetrics, type CommandMetrics, type MetricsFlags } from './metrics.js';

const EXIT = { drained: 0, failed: 1, usage: 2, interrupted: 130 } as const;

interface Flags extends MetricsFlags, RecycleFlags, IsolationFlags {
  queue: string;
  threads?: number;
  concurrency?: number;
  server?: string;
  name?: string;
  ackWait?: number;
  replicas?: number;
  target?: [string, number][];
  governor?: [string, string][];
}

/** Collects `KEY=VALUE` flags; the key is everything before the last `=`. */
function pairs<V>(flag: string, parse: (value: string) => V) {
  return (value: string, previous: [string, V][] | undefined): [string, V][] => {
    const at = value.lastIndexOf('=');
    if (at <= 0 || at === value.length - 1) {
      throw new InvalidArgumentError(`${flag} must be KEY=VALUE; got '${value}'.`);
    }
    return [...(previous ?? []), [value.slice(0, at), parse(value.slice(at + 1))]];
  };
}

function say(line: string): void {
  process.stderr.write(`corral serve: ${line}\n`);
}

/** Serves until drained or failed; resolves to the exit code. */
async function runServe(module: string, flags: Flags): Promise<number> {
  let nats: Nats;
  let nc: Awaited<ReturnType<typeof connectNats>>;
  try {
    nats = await loadNats();
    // A host must outlive a server restart: it keeps reconnecting, and quickly. Without
    // async traces: nats.js would capture a stack for every request (each confirmed ack).
    nc = await connectNats({
      server: flags.server,
      options: {
        timeout: 5000,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        noAsyncTraces: true,
      },
    });
  } catch (error) {
    say(describeError(error));
    return EXIT.usage;
  }
  const governors = new Map(
    (flags.governor ?? []).map(([key, name]) => [key, new nats.Governor(nc, name)] as const),
  );
  const governor: GovernorFor | undefined =
    governors.size === 0 ? undefined : (key) => governors.get(key);
  let host: InstanceType<Nats['Host']>;
  try {
    host = await nats.serve(nc, flags.queue, {
      module,
      ...(flags.threads === undefined ? {} : { threads: flags.threads }),
      ...(flags.concurrency === undefined ? {} : { concurrency: flags.concurrency }),
      ...(flags.name === undefined ? {} : { name: flags.name }),
      ...recycleOption(flags),
      ...isolationOption(flags),
      queue: {
        ...(flags.ackWait === undefined ? {} : { ackWait: flags.ackWait }),
        ...(flags.replicas === undefined ? {} : { replicas: flags.replicas }),
      },
      ...(governor === undefined ? {} : { governor }),
      targets: Object.fromEntries(flags.target ?? []),
    });
  } catch (error) {
    say(describeError(error));
    await nc.close().catch(() => undefined);
    return EXIT.usage;
  }
  let metrics: CommandMetrics | undefined;
  if (flags.metricsPort !== undefined) {
    try {
      metrics = await serveCommandMetrics({ ...flags, metricsPort: flags.metricsPort }, host.pool, {
        labels: { queue: flags.queue, host: flags.name ?? hostname() },
        queueInfo: () => nats.queueInfo(nc, flags.queue),
      });
      say(`metrics at ${metrics.url}`);
    } catch (error) {
      say(describeError(error));
      await host.drain().catch(() => undefined);
      await nc.close().catch(() => undefined);
      return EXIT.usage;
    }
  }
  const threads = flags.threads ?? availableParallelism();
  say(
    `serving queue '${flags.queue}' with ${threads} threads (tasks: ${host.tasks.join(', ')}); ` +
      'SIGTERM or SIGINT drains it',
  );
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled !== undefined) {
      say(`${signal} again: exiting without finishing the jobs held (they go to other hosts)`);
      process.exit(EXIT.interrupted);
    }
    signalled = signal;
    say(`${signal}: draining (finishing the ${host.stats().held} job messages held)`);
    void host.drain();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await host.closed();
    const s = host.stats();
    say(`drained: ${s.completed + s.failed} jobs reported (${s.failed} failed)`);
    return EXIT.drained;
  } catch (error) {
    say(`stopped serving: ${describeError(error)}`);
    return EXIT.failed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await metrics?.close();
    await nc.close().catch(() => undefined);
  }
}

const HELP = `
The host loads MODULE on a local pool of worker threads and takes jobs from the queue as
its threads have room; any number of hosts may serve one queue, and a host started while a
run is going takes its share at once. Clients send jobs with RemotePool (corral/nats) or
\`corral map MODULE INPUT --queue NAME\`.

SIGTERM or SIGINT drains the host: it takes no more jobs, finishes and reports the ones it
holds (none runs again elsewhere), and exits 0. A host killed outright loses nothing: its
jobs go to other hosts after the queue's ack wait.

The server is --server URL, else $NATS_URL, else ${DEFAULT_SERVER}.

Exit codes: 0 drained, 1 stopped serving (connection closed for good, or the pool failed),
2 could not start (module, server, queue), 130 a second signal while draining.

Examples:
  corral serve dist/workers/examples/hash.js --queue hashing --threads 8
  corral serve ./resize.js --queue thumbs --governor s3=s3-writes --server nats://10.0.0.5:4222
`;

/**
 * Adds `corral serve` to the `corral` program.
 *
 * @example
 * ```ts
 * const program = new Command('corral');
 * registerServeCommand(program);
 * await program.parseAsync();
 * ```
 */
export function registerServeCommand(program: Command): void {
  const serve = program
    .command('serve')
    .description('Serve a work queue: run its jobs on a local pool of worker threads.')
    .argument('<module>', 'the task module: a path or a file: URL (compiled JavaScript)')
    .requiredOption('-q, --queue <name>', 'the queue to serve (letters, digits, - and _)')
    .option(
      '--threads <n>',
      `worker threads (default: the number of cores, ${availableParallelism()} here)`,
      integer('--threads', 1),
    )
    .option(
      '--concurrency <n>',
      'jobs one thread runs at once (default: 1)',
      integer('--concurrency', 1),
    )
    .option('-s, --server <url>', 'NATS server URL (default: $NATS_URL)')
    .option('--name <name>', 'how the host shows in `corral queue info` (default: host:pid)')
    .option(
      '--ack-wait <duration>',
      'if the queue is new: how long a lost host keeps its jobs before others get them (default: 5s)',
      duration,
    )
    .option(
      '--replicas <n>',
      'if the queue is new: copies of its streams in a JetStream cluster, 1, 3 or 5 (default: 1)',
      integer('--replicas', 1),
    )
    .option(
      '--target <key=n>',
      'run at most N jobs with this key at once on this host (repeatable)',
      pairs('--target', integer('--target N', 0)),
    )
    .option(
      '--governor <key=governor>',
      'jobs with this key hold a slot of this NATS governor (see corral governor; repeatable)',
      pairs('--governor', (name) => name),
    )
    .option(
      '--metrics-port <n>',
      'serve Prometheus metrics at http://127.0.0.1:N/metrics (0: any free port; needs prom-client)',
      integer('--metrics-port', 0),
    )
    .option(
      '--metrics-host <address>',
      'with --metrics-port: the address to listen on (default: 127.0.0.1)',
    );
  isolationFlag(recycleFlags(serve))
    .addHelpText('after', HELP)
    .exitOverride((error) => {
      process.exit(error.exitCode === 0 ? 0 : EXIT.usage);
    })
    .action(async (module: string, flags: Flags) => {
      process.exitCode = await runServe(module, flags);
    });
}

/**
 * `corral governor ...`: manage NATS governors and run commands under one.
 *
 * Exit codes: 0 on success; 1 on an error (message on stderr); `run` exits with its
 * command's code (128 + signal number if a signal ended it), 75 if no slot came within
 * `--max-wait`, 127 if the command could not be started, 130/143 if interrupted while waiting.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  Runner,
  RunnerInterruptedError,
  RunnerTaskError,
  RunnerTimeoutError,
} from '../inflight/index.js';
import { CorralError } from '../util/errors.js';
import { holderName } from '../util/holder-name.js';
import { BACKOFF_POLICIES } from '../nats/backoff.js';
import { connectNats, DEFAULT_SERVER } from '../nats/connect.js';
import { formatDuration } from '../nats/duration.js';
import type { GovernorInfo, GovernorOptions, NatsSlot } from '../nats/index.js';
import { duration, loadNats, positiveInteger, table, type Nats } from './options.js';

/** `run` exits with this when no slot came within `--max-wait` (EX_TEMPFAIL: try again later). */
const EXIT_NO_SLOT = 75;
const EXIT_CANNOT_RUN = 127;
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

interface ServerOptions {
  server?: string;
}

type NatsConnection = Awaited<ReturnType<typeof connectNats>>;
/** The longest deadline a timer can wait for: about 24.8 days. */
const MAX_WAIT = 2 ** 31 - 1;

function maxWait(value: string): number {
  const ms = duration(value);
  if (ms > MAX_WAIT) {
    throw new InvalidArgumentError(
      '--max-wait must be under 24.8 days (the longest a timer waits).',
    );
  }
  return ms;
}

function report(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof CorralError ? ` (${error.code})` : '';
  process.stderr.write(`corral: ${message}${code}\n`);
}

function fail(error: unknown): void {
  report(error);
  process.exitCode = 1;
}

/** Connects, runs `work`, closes; reports errors and sets the exit code. */
async function withNats(
  options: ServerOptions,
  work: (nats: Nats, nc: NatsConnection) => Promise<void>,
): Promise<void> {
  let nc: NatsConnection | undefined;
  try {
    const nats = await loadNats();
    nc = await connectNats({ server: options.server, options: { timeout: 5000 } });
    await work(nats, nc);
  } catch (error) {
    fail(error);
  } finally {
    await nc?.close().catch(() => undefined);
  }
}

function ago(date: Date | undefined): string {
  if (date === undefined) return 'never';
  return `${date.toISOString()} (${formatDuration(Math.max(0, Date.now() - date.getTime()))} ago)`;
}

function toJson(info: GovernorInfo): Record<string, unknown> {
  return { ...info, lastActive: info.lastActive?.toISOString() ?? null };
}

function describeGovernor(info: GovernorInfo): string {
  return `limit ${info.limit}, max age ${formatDuration(info.maxAge)}, replicas ${info.replicas}`;
}

async function view(
  { GovernorManager }: Nats,
  nc: NatsConnection,
  name: string,
  json: boolean,
): Promise<void> {
  const manager = await GovernorManager.open(nc, name);
  const entries = await manager.entries();
  const info = await manager.info();
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...toJson(info), entries }, null, 2)}\n`);
    return;
  }
  const lines = [
    `Governor ${info.name}`,
    `  limit:       ${info.limit}`,
    `  max age:     ${formatDuration(info.maxAge)}`,
    `  replicas:    ${info.replicas}`,
    `  subject:     ${info.subject}.*`,
    `  active:      ${info.active}`,
    `  last active: ${ago(info.lastActive)}`,
    '',
  ];
  if (entries.length === 0) {
    lines.push('No slots are held.');
  } else {
    const rows = entries.map((e) => [
      String(e.seq),
      e.name,
      formatDuration(e.age),
      formatDuration(e.expiresIn),
    ]);
    lines.push(table([['SEQ', 'NAME', 'AGE', 'EXPIRES IN'], ...rows]));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function list({ GovernorManager }: Nats, nc: NatsConnection, json: boolean): Promise<void> {
  const governors = await GovernorManager.list(nc);
  if (json) {
    process.stdout.write(`${JSON.stringify(governors.map(toJson), null, 2)}\n`);
  } else if (governors.length === 0) {
    process.stdout.write('No governors.\n');
  } else {
    const rows = governors.map((g) => [
      g.name,
      String(g.limit),
      String(g.active),
      formatDuration(g.maxAge),
      String(g.replicas),
    ]);
    const header = ['NAME', 'LIMIT', 'ACTIVE', 'MAX AGE', 'REPLICAS'];
    process.stdout.write(`${table([header, ...rows])}\n`);
  }
}

interface RunOptions extends ServerOptions {
  maxWait?: number;
  name?: string;
  interval?: number;
  maxInterval?: number;
  backoff?: (typeof BACKOFF_POLICIES)[number];
  maxPerPeriod?: true;
}

/** The campaign options that `run`'s flags ask for. */
function campaignOptions(options: RunOptions): GovernorOptions {
  const { interval, maxInterval, backoff, maxPerPeriod } = options;
  return {
    ...(interval === undefined ? {} : { retryInterval: interval }),
    ...(maxInterval === undefined ? {} : { maxRetryInterval: maxInterval }),
    ...(backoff === undefined ? {} : { backoff }),
    ...(maxPerPeriod === true ? { leaveOnFinish: false } : {}),
  };
}

function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

/**
 * Waits for a slot, runs the command in it, frees it; resolves to the exit code.
 * The wait runs under a {@link Runner}: `--max-wait` is its deadline, and a signal gives
 * up the campaign. Once the command runs, signals go to the command instead.
 */
async function run(governorName: string, argv: string[], options: RunOptions): Promise<number> {
  const [command = '', ...args] = argv;
  let child: ReturnType<typeof spawn> | undefined;
  const forward = (signal: NodeJS.Signals): void => {
    child?.kill(signal);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  let nc: NatsConnection | undefined;
  /** Connects and campaigns; a slot won after `signal` aborted is freed at once. */
  const campaign = async (signal: AbortSignal): Promise<NatsSlot> => {
    const { Governor, GovernorManager } = await loadNats();
    nc = await connectNats({
      server: options.server,
      // A long command must survive a server restart: keep reconnecting.
      options: { timeout: 5000, maxReconnectAttempts: -1, reconnectTimeWait: 500 },
    });
    signal.throwIfAborted();
    const info = await (await GovernorManager.open(nc, governorName)).info();
    if (info.active >= info.limit) {
      process.stderr.write(
        `corral: governor '${governorName}' is full (${info.active} of ${info.limit} slots held); waiting for a slot\n`,
      );
    }
    const holder = options.name ?? `${holderName()} ${command}`;
    const won = await new Governor(nc, governorName, campaignOptions(options)).start({
      name: holder,
      signal,
    });
    if (signal.aborted) {
      await won.finish().catch(() => undefined);
      signal.throwIfAborted();
    }
    return won;
  };
  try {
    let waiting: Promise<NatsSlot> | undefined;
    const runner = new Runner({ timeout: options.maxWait ?? Infinity, signals: [...FORWARDED] });
    runner.add(({ signal }) => (waiting = campaign(signal)));
    try {
      await runner.start();
    } catch (error) {
      // The runner does not wait for the campaign after the deadline or a second signal:
      // wait here, so that a slot won meanwhile is freed and the connection closed after it.
      await waiting?.catch(() => undefined);
      if (error instanceof RunnerTimeoutError) {
        const wait = formatDuration(options.maxWait ?? 0);
        process.stderr.write(`corral: no slot of governor '${governorName}' within ${wait}\n`);
        return EXIT_NO_SLOT;
      }
      if (error instanceof RunnerInterruptedError) return signalExitCode(error.signal);
      throw error instanceof RunnerTaskError ? error.cause : error;
    }
    const slot = await (waiting as Promise<NatsSlot>);
    const running = spawn(command, args, { stdio: 'inherit' });
    child = running;
    const onLost = (): void => {
      const reason: unknown = slot.signal.reason;
      const why = reason instanceof Error ? reason.message : String(reason);
      process.stderr.write(`corral: ${why}; stopping the command\n`);
      running.kill('SIGTERM');
    };
    slot.signal.addEventListener('abort', onLost, { once: true });
    const exit = await new Promise<number>((resolve) => {
      running.once('error', (error) => {
        process.stderr.write(`corral: cannot run '${command}': ${error.message}\n`);
        resolve(EXIT_CANNOT_RUN);
      });
      running.once('exit', (code, signal) => {
        resolve(signal === null ? (code ?? 1) : signalExitCode(signal));
      });
    });
    slot.signal.removeEventListener('abort', onLost);
    const lost = slot.signal.aborted;
    await slot.finish().catch((error: unknown) => {
      // A loss was reported when it happened; anything else is worth a word, but the
      // command's own exit code stays what `run` exits with.
      if (!lost) report(error);
    });
    // The command ran partly outside the limit: never report plain success.
    return lost && exit === 0 ? 1 : exit;
  } finally {
    for (const signal of FORWARDED) process.off(signal, forward);
    await nc?.close().catch(() => undefined);
  }
}

/**
 * Adds `corral governor` and its subcommands to `program`.
 *
 * @example
 * ```ts
 * const program = new Command('corral');
 * registerGovernorCommand(program);
 * await program.parseAsync();
 * ```
 */
export function registerGovernorCommand(program: Command): Command {
  const governor = program
    .command('governor')
    .description('cluster-wide concurrency limits on NATS JetStream')
    .addHelpText(
      'after',
      `\nThe server is --server URL, else $NATS_URL, else ${DEFAULT_SERVER}.` +
        '\nDurations: 500ms, 30s, 5m, 1h, 1h30m.',
    );
  const command = (name: string, description: string): Command =>
    governor
      .command(name)
      .description(description)
      .option('-s, --server <url>', 'NATS server URL (default: $NATS_URL)');

  command('add', 'create a governor, or check an existing one has this configuration')
    .argument('<name>', 'governor name (letters, digits, - and _)')
    .argument('<limit>', 'slots that may be held at once', positiveInteger('limit'))
    .argument('<max-age>', 'how long an entry lives without a refresh (e.g. 5m)', duration)
    .option('-r, --replicas <n>', 'stream replicas in a cluster', positiveInteger('replicas'), 1)
    .option('-u, --update', 'change the governor if it exists with another configuration')
    .option('-f, --force', 'with --update, lower the limit even below the slots held')
    .option(
      '--subject <subject>',
      'publish entries as <subject>.<id> (default: corral.governor.<name>); cannot be changed later',
    )
    .action(
      async (
        name: string,
        limit: number,
        maxAge: number,
        opts: ServerOptions & { replicas: number; update?: true; force?: true; subject?: string },
      ) =>
        withNats(opts, async ({ GovernorManager }, nc) => {
          const flags = { update: opts.update === true, force: opts.force === true };
          const config = {
            limit,
            maxAge,
            replicas: opts.replicas,
            ...(opts.subject === undefined ? {} : { subject: opts.subject }),
          };
          const manager = await GovernorManager.create(nc, name, config, flags);
          const info = await manager.info();
          process.stdout.write(`governor ${name}: ${describeGovernor(info)}\n`);
        }),
    );

  command('view', 'show a governor and the slots held')
    .argument('<name>', 'governor name')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: ServerOptions & { json?: true }) =>
      withNats(opts, (nats, nc) => view(nats, nc, name, opts.json === true)),
    );

  command('evict', 'free the slot of entry SEQ (see view)')
    .argument('<name>', 'governor name')
    .argument('<seq>', 'entry sequence', positiveInteger('seq'))
    .action(async (name: string, seq: number, opts: ServerOptions) =>
      withNats(opts, async ({ GovernorManager }, nc) => {
        const entry = await (await GovernorManager.open(nc, name)).evict(seq);
        process.stdout.write(`evicted entry ${seq} (${entry.name}) from governor ${name}\n`);
      }),
    );

  command('reset', 'free every slot of a governor')
    .argument('<name>', 'governor name')
    .action(async (name: string, opts: ServerOptions) =>
      withNats(opts, async ({ GovernorManager }, nc) => {
        const removed = await (await GovernorManager.open(nc, name)).reset();
        process.stdout.write(`reset governor ${name}: removed ${removed} entries\n`);
      }),
    );

  command('rm', 'delete a governor')
    .argument('<name>', 'governor name')
    .action(async (name: string, opts: ServerOptions) =>
      withNats(opts, async ({ GovernorManager }, nc) => {
        await (await GovernorManager.open(nc, name)).remove();
        process.stdout.write(`removed governor ${name}\n`);
      }),
    );

  command('list', 'list the governors')
    .option('--json', 'print JSON')
    .action(async (opts: ServerOptions & { json?: true }) =>
      withNats(opts, (nats, nc) => list(nats, nc, opts.json === true)),
    );

  command('run', 'wait for a slot, run a command in it, free the slot when it exits')
    .argument('<name>', 'governor name')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('-w, --max-wait <duration>', 'give up if no slot comes within this long', maxWait)
    .option('-n, --name <holder>', 'the name shown in the governor (default: host:pid command)')
    .option(
      '-i, --interval <duration>',
      'wait this long before trying again while the governor is full (default: 250ms)',
      duration,
    )
    .addOption(
      new Option(
        '--backoff <policy>',
        'how the wait grows: exponential doubles it up to --max-interval',
      )
        .choices(BACKOFF_POLICIES)
        .default('exponential'),
    )
    .option(
      '--max-interval <duration>',
      'the longest exponential wait (default: the larger of 2s and --interval)',
      duration,
    )
    .option(
      '--max-per-period',
      'leave the entry to expire instead of freeing it at exit: at most LIMIT runs start per max age',
    )
    .usage('[options] <name> -- <command> [args...]')
    .action(async (name: string, argv: string[], opts: RunOptions) => {
      try {
        process.exitCode = await run(name, argv, opts);
      } catch (error) {
        fail(error);
      }
    });

  return governor;
}

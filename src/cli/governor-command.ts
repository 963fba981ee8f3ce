/**
 * `corral governor ...`: manage NATS governors and run commands under one (`run`, in
 * governor-run.ts).
 *
 * Exit codes: 0 on success; 1 on an error (message on stderr); `run`'s are in governor-run.ts.
 *
 * @module
 */
import { Command } from 'commander';
import { connectNats, DEFAULT_SERVER } from '../nats/shared/connect.js';
import { formatDuration } from '../nats/shared/duration.js';
import type { GovernorInfo } from '../nats/index.js';
import { duration, fail, loadNats, positiveInteger, table, type Nats } from './options.js';
import { registerGovernorRun } from './governor-run.js';

interface ServerOptions {
  server?: string;
}

type NatsConnection = Awaited<ReturnType<typeof connectNats>>;

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

  registerGovernorRun(
    command('run', 'wait for a slot, run a command in it, free the slot when it exits'),
  );

  return governor;
}

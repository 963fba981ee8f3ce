/**
 * `corral queue info NAME`: what a work queue holds now, and which hosts serve it.
 *
 * Exit codes: 0 shown; 1 an error (unknown queue, server unreachable), message on stderr.
 *
 * @module
 */
import { Command } from 'commander';
import { CorralError } from '../index.js';
import { connectNats, DEFAULT_SERVER } from '../nats/shared/connect.js';
import { formatDuration } from '../nats/shared/duration.js';
import type { QueueInfo } from '../nats/index.js';
import { loadNats, table } from './options.js';

/** The info as text. */
export function formatQueueInfo(info: QueueInfo, now = Date.now()): string {
  const lines = [
    `Queue ${info.queue}`,
    `  pending:     ${info.pending} job messages waiting for a host`,
    `  in flight:   ${info.inFlight} job messages held by hosts`,
    `  redelivered: ${info.redelivered} of them delivered again (their first host was lost)`,
    `  results:     ${info.results} result messages not yet read by their clients`,
    `  ack wait:    ${formatDuration(info.ackWait)}`,
    `  replicas:    ${info.replicas}`,
    '',
  ];
  if (info.hosts.length === 0) {
    lines.push(`No hosts seen (waiting pulls: ${info.waitingPulls}).`);
  } else {
    lines.push(`Hosts seen: ${info.hosts.length}`);
    const rows = info.hosts.map((h) => [
      h.name,
      String(h.threads),
      String(h.held),
      String(h.reported),
      formatDuration(Math.max(0, now - h.started)),
      h.draining ? 'draining' : 'serving',
    ]);
    lines.push(table([['HOST', 'THREADS', 'HELD', 'REPORTED', 'UP', 'STATE'], ...rows]));
  }
  return lines.join('\n');
}

/**
 * Adds `corral queue` and its subcommands to `program`.
 *
 * @example
 * ```ts
 * const program = new Command('corral');
 * registerQueueCommand(program);
 * await program.parseAsync();
 * ```
 */
export function registerQueueCommand(program: Command): Command {
  const queue = program
    .command('queue')
    .description('work queues on NATS JetStream (see corral serve)')
    .addHelpText('after', `\nThe server is --server URL, else $NATS_URL, else ${DEFAULT_SERVER}.`);
  queue
    .command('info')
    .description('show what a queue holds and the hosts serving it')
    .argument('<name>', 'queue name')
    .option('-s, --server <url>', 'NATS server URL (default: $NATS_URL)')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { server?: string; json?: true }) => {
      let nc: Awaited<ReturnType<typeof connectNats>> | undefined;
      try {
        const { queueInfo } = await loadNats();
        nc = await connectNats({ server: opts.server, options: { timeout: 5000 } });
        const info = await queueInfo(nc, name);
        process.stdout.write(
          opts.json === true ? `${JSON.stringify(info, null, 2)}\n` : `${formatQueueInfo(info)}\n`,
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const code = error instanceof CorralError ? ` (${error.code})` : '';
        process.stderr.write(`corral: ${message}${code}\n`);
        process.exitCode = 1;
      } finally {
        await nc?.close().catch(() => undefined);
      }
    });
  return queue;
}

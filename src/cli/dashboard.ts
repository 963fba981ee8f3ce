/**
 * `corral dashboard --queue NAME`: serves the live page of a work queue and its hosts
 * (see `serveDashboard`) until interrupted.
 *
 * Exit codes: 0 stopped by SIGINT or SIGTERM; 2 could not start (server, port), message on
 * stderr.
 *
 * @module
 */
import { Command } from 'commander';
import { connectNats, DEFAULT_SERVER } from '../nats/shared/connect.js';
import { describeError, integer } from './options.js';

interface Flags {
  queue: string;
  port: number;
  host: string;
  server?: string;
}

function say(line: string): void {
  process.stderr.write(`corral dashboard: ${line}\n`);
}

async function runDashboard(flags: Flags): Promise<number> {
  let nc: Awaited<ReturnType<typeof connectNats>> | undefined;
  let dashboard;
  try {
    // The page stays up across a server restart: the connection keeps reconnecting.
    nc = await connectNats({
      server: flags.server,
      options: { timeout: 5000, maxReconnectAttempts: -1, reconnectTimeWait: 500 },
    });
    const { serveDashboard } = await import('../dashboard/index.js');
    dashboard = await serveDashboard(
      { nc, queue: flags.queue },
      { port: flags.port, host: flags.host },
    );
  } catch (error) {
    say(describeError(error));
    await nc?.close().catch(() => undefined);
    return 2;
  }
  say(`queue ${flags.queue} on ${dashboard.url}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await dashboard.close();
  await nc.close().catch(() => undefined);
  return 0;
}

/**
 * Adds `corral dashboard` to `program`.
 *
 * @example
 * ```ts
 * const program = new Command('corral');
 * registerDashboardCommand(program);
 * await program.parseAsync();
 * ```
 */
export function registerDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .description('Serve a live web page of a work queue and the hosts serving it.')
    .requiredOption('-q, --queue <name>', 'the queue to watch')
    .option(
      '-p, --port <n>',
      'the port to listen on; 0 for any free one',
      integer('--port', 0),
      8080,
    )
    .option('--host <address>', 'the address to listen on', '127.0.0.1')
    .option('-s, --server <url>', 'NATS server URL (default: $NATS_URL)')
    .addHelpText(
      'after',
      `\nThe server is --server URL, else $NATS_URL, else ${DEFAULT_SERVER}.\n` +
        'The page is read-only; it listens on 127.0.0.1 unless --host says otherwise.\n\n' +
        'Example:\n  corral dashboard --queue thumbs --port 8080',
    )
    .action(async (flags: Flags) => {
      process.exitCode = await runDashboard(flags);
    });
}

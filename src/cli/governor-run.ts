/**
 * `corral governor run NAME -- COMMAND`: wait for a slot of a NATS governor, run a command
 * in it, free the slot when the command exits.
 *
 * Exit codes: the command's code (128 + signal number if a signal ended it), 75 if no slot
 * came within `--max-wait`, 127 if the command could not be started, 130/143 if interrupted
 * while waiting, 1 on another error (message on stderr).
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  Runner,
  RunnerInterruptedError,
  RunnerTaskError,
  RunnerTimeoutError,
} from '../inflight/index.js';
import { holderName } from '../util/holder-name.js';
import { BACKOFF_POLICIES } from '../nats/shared/backoff.js';
import { connectNats } from '../nats/shared/connect.js';
import { formatDuration } from '../nats/shared/duration.js';
import type { GovernorOptions, NatsSlot } from '../nats/index.js';
import { duration, fail, loadNats, report } from './options.js';

/** `run` exits with this when no slot came within `--max-wait` (EX_TEMPFAIL: try again later). */
const EXIT_NO_SLOT = 75;
const EXIT_CANNOT_RUN = 127;
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

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

interface RunOptions {
  server?: string;
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

/** Adds the options and action of `corral governor run` to `command`. */
export function registerGovernorRun(command: Command): Command {
  return command
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
}

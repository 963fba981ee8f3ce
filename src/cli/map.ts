/**
 * `corral map MODULE [INPUT]`: run every record of a JSON-lines (or plain-lines) input
 * through a task on a worker pool, and write the results as JSON lines.
 *
 * Exit codes: 0 every record succeeded; 1 some failed; 2 a usage error, or the run could
 * not start (module, task, input, output) or could not go on (input or output failed
 * midway); 130 interrupted by SIGINT or SIGTERM. A closed stdout (`| head -1`) ends the run
 * quietly with 0 (or 1 if a record had failed).
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EXIT, runMap, type MapOptions, type MapResult } from './map-run.js';
import {
  describeError,
  integer,
  isolationFlag,
  isolationOption,
  recycleFlags,
  recycleOption,
  type IsolationFlags,
  type RecycleFlags,
} from './options.js';
import { DASHBOARD_PORT } from './map-dashboard.js';
import type { RecordFormat } from './records.js';

/** The flags as commander hands them over. */
interface Flags extends RecycleFlags, IsolationFlags {
  task: string;
  threads?: number;
  key?: string;
  target?: [string, number][];
  ordered?: boolean;
  withLine?: boolean;
  maxTries?: number;
  timeout?: number;
  output?: string;
  errors?: string;
  format: RecordFormat;
  // -- work queue (issue 10) --
  queue?: string;
  server?: string;
  dashboard?: true | number;
  metricsPort?: number;
  metricsHost?: string;
}

const targetCount = integer('--target N', 1);

/** Collects `--target KEY=N` flags; the key is everything before the last `=`. */
function target(value: string, previous: [string, number][] | undefined): [string, number][] {
  const at = value.lastIndexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`--target must be KEY=N; got '${value}'.`);
  return [...(previous ?? []), [value.slice(0, at), targetCount(value.slice(at + 1))]];
}

function exitCode(result: MapResult): number {
  if (result.error !== undefined) return EXIT.usage;
  if (result.interrupted !== undefined) return EXIT.interrupted;
  return result.tally.failed > 0 ? EXIT.failed : EXIT.ok;
}

const HELP = `
Records:
  --format jsonl (the default): each line is one JSON value, passed to the task as it
  is; blank lines are skipped; a line that is not JSON is a failed record.
  --format lines: each line is a record, passed to the task as a string.

Output:
  Each result is written as one line of JSON: the task's return value as it is (undefined
  becomes null), or with --with-line the value and the number of its input line:
    {"line": 3, "result": ...}
  Order: by default results are written in completion order, as records finish, so a fast
  record overtakes a slow one read before it; use --with-line to match results to inputs.
  --ordered writes them in input order instead: a slow record then holds back the results
  read after it (the records taken ahead stay bounded, so the run slows rather than grows).
  Each failed record is one line of JSON on stderr (or --errors), in the same order:
    {"line": 3, "input": ..., "error": {"name": "...", "message": "...", "code": "..."}}
  At the end a summary goes to stderr (with a progress bar while running, on a terminal):
    corral map: 20000 records, 0 failed, 3.21 s, 6230 records/s
  SIGINT or SIGTERM stops reading; records already taken finish and are written, then the
  summary is printed and corral exits with 130. A second signal exits at once.
  When the reader of stdout goes away (corral map ... | head -1), corral stops reading and
  ends quietly, with no error and no summary, and exit code 0 (1 if a record had failed).

Exit codes:
  0 all records succeeded, 1 some failed, 2 usage error or the run could not start or
  finish (module, task, input, output), 130 interrupted.

Across hosts (--queue NAME): the records run on the hosts serving the queue (started with
\`corral serve MODULE --queue NAME\`); MODULE is theirs and is not loaded here. Output and
exit codes are the same. --max-tries and --timeout apply per record (the timeout counts
from when the record is sent, time queued included); --target belongs to the hosts.

Examples:
  corral map dist/workers/examples/hash.js records.jsonl --task sha256 --ordered > digests.jsonl
  cat urls.txt | corral map ./fetch.js --format lines --threads 8 --errors failed.jsonl
  corral map ./resize.js jobs.jsonl --key tenant --target big=1 --target small=4
  corral map ./resize.js jobs.jsonl --queue thumbs --server nats://10.0.0.5:4222
`;

/**
 * Adds `corral map` to the `corral` program.
 *
 * @example
 * ```ts
 * const program = new Command('corral');
 * registerMapCommand(program);
 * await program.parseAsync();
 * ```
 */
export function registerMapCommand(program: Command): void {
  const format = new Option('--format <format>', 'how input lines become records')
    .choices(['jsonl', 'lines'])
    .default('jsonl');
  const map = program
    .command('map')
    .description(
      'Run every record of a JSON-lines input (a file or stdin) through a task on a pool ' +
        'of worker threads, and write the results as JSON lines.',
    )
    .argument(
      '<module>',
      'the task module: a path or a file: URL (JavaScript, or TypeScript with tsx installed)',
    )
    .argument('[input]', 'the input file; stdin when omitted or "-"')
    .option('--task <name>', 'the exported function to run on each record', 'default')
    .option(
      '--threads <n>',
      `worker threads (default: the number of cores, ${availableParallelism()} here)`,
      integer('--threads', 1),
    )
    .option(
      '--key <field>',
      "the record field whose value (a string or number) is the record's key, for --target",
    )
    .option(
      '--target <key=n>',
      'run at most N records with this key at once (repeatable; needs --key)',
      target,
    )
    .option('--ordered', 'write results in input order (default: completion order)')
    .option('--with-line', 'write each result as {"line":N,"result":...}, N its input line')
    .option(
      '--max-tries <n>',
      'times a record may be started, if its thread dies or it throws retryable() (default: 1)',
      integer('--max-tries', 1),
    )
    .option(
      '--timeout <ms>',
      'run-time limit per record in ms; the record fails with ERR_JOB_TIMEOUT (default: 0, none)',
      integer('--timeout', 0),
    );
  recycleFlags(map);
  isolationFlag(map);
  map
    .option('--output <file>', 'write results to this file instead of stdout')
    .option('--errors <file>', 'write failed records to this file instead of stderr')
    .addOption(format)
    // -- work queue (issue 10) --
    .option(
      '--queue <name>',
      'run the records on the hosts serving this work queue (corral serve) instead of locally',
    )
    .option('--server <url>', 'with --queue: the NATS server URL (default: $NATS_URL)')
    // -- end of work queue --
    .option(
      '--dashboard [port]',
      `serve a live page of the run on 127.0.0.1 (default port: ${DASHBOARD_PORT})`,
      integer('--dashboard', 0),
    )
    .option(
      '--metrics-port <n>',
      'serve Prometheus metrics at http://127.0.0.1:N/metrics while it runs (0: any free port; needs prom-client)',
      integer('--metrics-port', 0),
    )
    .option(
      '--metrics-host <address>',
      'with --metrics-port: the address to listen on (default: 127.0.0.1)',
    )
    .addHelpText('after', HELP)
    .exitOverride((error) => {
      // Help and version exit 0; every parse error is a usage error.
      process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
    })
    .action(async (module: string, input: string | undefined, flags: Flags, command: Command) => {
      if (flags.target !== undefined && flags.key === undefined) {
        command.error('error: --target needs --key FIELD', { exitCode: EXIT.usage });
      }
      if (flags.key !== undefined && flags.format === 'lines') {
        command.error('error: --key needs JSON records (--format jsonl)', {
          exitCode: EXIT.usage,
        });
      }
      const options: MapOptions = {
        module,
        input,
        task: flags.task,
        threads: flags.threads,
        key: flags.key,
        targets: new Map(flags.target),
        ordered: flags.ordered === true,
        withLine: flags.withLine === true,
        maxTries: flags.maxTries,
        timeout: flags.timeout,
        ...recycleOption(flags),
        ...isolationOption(flags),
        output: flags.output,
        errors: flags.errors,
        format: flags.format,
        queue: flags.queue, // work queue (issue 10)
        server: flags.server,
        dashboard: flags.dashboard === true ? DASHBOARD_PORT : flags.dashboard,
        metricsPort: flags.metricsPort,
        metricsHost: flags.metricsHost,
      };
      try {
        process.exitCode = exitCode(await runMap(options));
      } catch (error) {
        process.stderr.write(`corral map: ${describeError(error)}\n`);
        process.exitCode = EXIT.usage;
      }
    });
}

/**
 * One `corral map` run: start the pool, check the task, stream the input's records through
 * `pool.wrap`, write results and failures. A {@link Runner} runs it, for Ctrl-C: the first
 * SIGINT/SIGTERM stops the reading and lets the records taken finish, a second one exits.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { Runner, RunnerInterruptedError, RunnerTaskError } from '../inflight/index.js';
import { UnknownTaskError } from '../pool/errors.js';
import { CorralError } from '../util/errors.js';
import { InputError, type OutputError } from './errors.js';
import type { Isolation, PoolOptions, RecycleOptions } from '../pool/options.js';
import { Pool } from '../pool/pool.js';
import type { StreamOptions } from '../pool/stream.js';
import { InflightGate } from './map-gate.js';
import { FailureLog, LineWriter, isClosedPipe, resultLine, type LineSink } from './map-output.js';
import type { Executor } from '../pool/executor.js';
import { startRemote } from './map-remote.js';
import { startMapDashboard, type DashboardTarget } from './map-dashboard.js';
import { Progress, summaryLine, type Tally } from './progress.js';
import { describeError } from './options.js';
import { serveCommandMetrics, type CommandMetrics } from './metrics.js';
import {
  countLines,
  openInput,
  parseRecord,
  readLines,
  type Input,
  type RecordFormat,
} from './records.js';

/** `corral map`'s exit codes. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** What `corral map` was asked to do, checked. */
export interface MapOptions {
  /** The task module's path or `file:` URL. */
  readonly module: string;
  /** The input file; `undefined` or `-` for stdin. */
  readonly input: string | undefined;
  /** The exported task to run on each record. */
  readonly task: string;
  /** Worker threads; `undefined` for the pool's default. */
  readonly threads: number | undefined;
  /** The record field whose value is a record's key, for per-key targets. */
  readonly key: string | undefined;
  /** Per-key concurrency targets. */
  readonly targets: ReadonlyMap<string, number>;
  /** Write results (and failures) in input order rather than completion order. */
  readonly ordered: boolean;
  /** Write each result as `{"line":N,"result":...}`, with its input line number. */
  readonly withLine: boolean;
  /** The pool's `maxTries`; `undefined` for its default. */
  readonly maxTries: number | undefined;
  /** The pool's per-job `timeout` in ms; `undefined` for its default (none). */
  readonly timeout: number | undefined;
  /** The pool's `recycle` limits (`--recycle-*`); none when undefined. */
  readonly recycle?: RecycleOptions | undefined;
  /** Where the pool's workers run (`--isolation`); threads when undefined. */
  readonly isolation?: Isolation | undefined;
  /** Results file; stdout when undefined. */
  readonly output: string | undefined;
  /** Failures file; stderr when undefined. */
  readonly errors: string | undefined;
  /** JSON lines, or plain lines as strings. */
  readonly format: RecordFormat;
  // -- work queue (issue 10) --
  /** Run the records on the hosts serving this queue instead of on a local pool. */
  readonly queue?: string | undefined;
  /** The NATS server of `queue`; `$NATS_URL` or the default when undefined. */
  readonly server?: string | undefined;
  /** Serve the live dashboard on this port during the run (`--dashboard [PORT]`). */
  readonly dashboard?: number | undefined;
  /** Serve the pool's metrics at `/metrics` on this port while the run lasts. */
  readonly metricsPort?: number | undefined;
  /** The address of the metrics server; 127.0.0.1 when undefined. */
  readonly metricsHost?: string | undefined;
}

/** How a run ended. */
export interface MapResult {
  /** Records, failures and wall time. */
  readonly tally: Tally;
  /** The signal that stopped the run early, if one did. */
  readonly interrupted: NodeJS.Signals | undefined;
  /** Reading the input or writing an output failed midway. */
  readonly error: CorralError | undefined;
  /**
   * The reader of an output went away (`corral map ... | head -1`): the run stopped
   * reading and ends quietly, like other filters, with no error and no summary.
   */
  readonly closed: boolean;
}

/** The key of a record: its `field`, when that is a string or a number. */
function keyOf(input: unknown, field: string): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const value = (input as Record<string, unknown>)[field];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/** Throws `ERR_UNKNOWN_TASK` if the module has no such task, before any input is read. */
async function checkTask(pool: Pool, task: string): Promise<void> {
  const tasks = await pool.tasks();
  if (!tasks.includes(task)) throw new UnknownTaskError(task, tasks);
}

/**
 * Starts the pool and checks that it has the task and, for `--key`, per-key targets,
 * which it then sets. Shuts the pool down again if anything is missing.
 */
async function startPool(options: MapOptions, threads: number): Promise<Pool> {
  const poolOptions: PoolOptions = { module: options.module, threads };
  if (options.maxTries !== undefined) poolOptions.maxTries = options.maxTries;
  if (options.timeout !== undefined) poolOptions.timeout = options.timeout;
  if (options.recycle !== undefined) poolOptions.recycle = options.recycle;
  if (options.isolation !== undefined) poolOptions.isolation = options.isolation;
  const pool = new Pool(poolOptions);
  try {
    await pool.ready();
    await checkTask(pool, options.task);
    for (const [key, target] of options.targets) pool.setTarget(key, target);
    return pool;
  } catch (error) {
    await pool.shutdown();
    throw error;
  }
}

/** `--metrics-port`: the run's pool (local or remote) served to Prometheus. */
async function startMetrics(
  options: MapOptions,
  pool: Executor,
): Promise<CommandMetrics | undefined> {
  const port = options.metricsPort;
  if (port === undefined) return undefined;
  const flags = { metricsPort: port, metricsHost: options.metricsHost };
  const metrics =
    pool instanceof Pool
      ? await serveCommandMetrics(flags, pool, { labels: { pool: 'map' } })
      : await serveCommandMetrics(
          flags,
          {
            queue: options.queue as string,
            stats: () => pool.stats(),
          },
          {},
        );
  process.stderr.write(`corral map: metrics at ${metrics.url}\n`);
  return metrics;
}

/** A run's outcome but for the signal, which the runner knows. */
type Mapped = Omit<MapResult, 'interrupted'>;

/** The signals that interrupt a run. */
const INTERRUPTS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** Starts the local pool of a run, with `--threads` or one thread per core. */
async function startLocal(options: MapOptions): Promise<{ pool: Pool; threads: number }> {
  const threads = options.threads ?? availableParallelism();
  return { pool: await startPool(options, threads), threads };
}

/**
 * Runs `corral map`. Throws (before reading any input) if it cannot start: unreadable
 * input, unopenable output, missing module or task, no per-key targets. Otherwise prints
 * the summary on stderr and resolves with how the run ended.
 */
export async function runMap(options: MapOptions): Promise<MapResult> {
  const input = await openInput(options.input);
  /** What the runner's one task left behind, read once the runner has settled. */
  const task: { progress?: Progress; outcome?: Mapped; failure?: unknown; settled: boolean } = {
    settled: false,
  };
  const runner = new Runner({ signals: INTERRUPTS });
  runner.add(async ({ signal }) => {
    try {
      task.outcome = await mapRecords(options, input, signal, (p) => (task.progress = p));
    } catch (error) {
      task.failure = error;
      throw error;
    } finally {
      task.settled = true;
    }
    // Drained after a signal, the run has not mapped all its input: the runner reports
    // the interruption rather than a finished run.
    signal.throwIfAborted();
  });
  let interrupted: NodeJS.Signals | undefined;
  try {
    await runner.start();
  } catch (error) {
    if (error instanceof RunnerTaskError) throw error.cause;
    if (!(error instanceof RunnerInterruptedError)) throw error;
    if (!task.settled) {
      // A second signal: the runner no longer waits for the records in flight.
      task.progress?.stop();
      process.stderr.write('corral map: interrupted again: exiting without waiting\n');
      process.exit(EXIT.interrupted);
    }
    interrupted = error.signal;
  } finally {
    input.stream.destroy();
  }
  // A run that could not start while a signal came reports why it could not start.
  if (task.outcome === undefined) throw task.failure;
  const result = { ...task.outcome, interrupted };
  if (result.closed) return result;
  if (result.error !== undefined) {
    process.stderr.write(`corral map: ${describeError(result.error)}\n`);
  }
  process.stderr.write(`${summaryLine(result.tally, interrupted)}\n`);
  return result;
}

/**
 * Maps the input until it ends, an output fails or closes, or `interrupt` aborts; then
 * lets the records taken finish and writes their outcomes.
 */
async function mapRecords(
  options: MapOptions,
  input: Input,
  interrupt: AbortSignal,
  started: (progress: Progress) => void,
): Promise<Mapped> {
  let error: CorralError | undefined;
  let closed = false;
  /** Aborts when an output fails or closes. */
  const failed = new AbortController();
  const stop = AbortSignal.any([interrupt, failed.signal]);
  const fail = (e: OutputError): void => {
    if (isClosedPipe(e)) closed = true;
    else error ??= e;
    failed.abort();
  };
  await using out = await LineWriter.open(options.output, process.stdout, 'stdout', fail);
  await using errors = await LineWriter.open(options.errors, process.stderr, 'stderr', fail);
  // -- work queue (issue 10): a local pool, or the hosts of --queue, through one interface.
  const executor: { pool: Executor & AsyncDisposable; threads: number; target: DashboardTarget } =
    options.queue === undefined
      ? await startLocal(options).then((local) => ({ ...local, target: local.pool }))
      : await startRemote({ ...options, queue: options.queue, server: options.server });
  const threads = executor.threads;
  await using pool = executor.pool;
  // -- end of work queue --
  // Only disposed of (at the end of the run): the page stops with it.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  await using dashboard = await startMapDashboard(options.dashboard, executor.target);
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- held until the run ends
  await using metrics = await startMetrics(options, pool);
  const gate = new InflightGate(threads, stop);
  const wrapOptions: StreamOptions = {
    task: options.task,
    ordered: options.ordered,
    window: gate.max,
  };
  const field = options.key;
  if (field !== undefined) wrapOptions.key = (record) => keyOf(record, field);

  // Started: from here on every problem is reported per record or in the result.
  if (input.path === undefined && process.stdin.isTTY) {
    process.stderr.write('corral map: reading records from the terminal (end with Ctrl-D)\n');
  }
  const progress = new Progress(process.stderr);
  started(progress);
  if (input.path !== undefined && progress.drawing) {
    void countLines(input.path, stop).then((lines) => {
      if (lines !== undefined) progress.setTotal(lines);
    });
  }
  const logSink: LineSink = {
    write: (line) => {
      progress.log(line);
      return undefined;
    },
  };
  const failures = new FailureLog(
    options.errors === undefined && progress.drawing ? logSink : errors,
    options.ordered,
  );
  /** Input line number of each record taken and not yet written, by its index in the stream. */
  const lineOf = new Map<number, number>();
  let taken = 0;

  async function* records(): AsyncGenerator {
    try {
      for await (const { line, text } of readLines(input.stream, stop)) {
        const parsed = parseRecord(text, options.format);
        if (parsed.kind === 'blank') {
          progress.tick(false, false);
        } else if (parsed.kind === 'bad') {
          progress.tick(true);
          await failures.malformed(taken, line, text, parsed.error);
        } else {
          if (!(await gate.room())) return;
          gate.take();
          lineOf.set(taken++, line);
          yield parsed.value;
        }
      }
    } catch (readError) {
      throw new InputError(input.name, readError);
    }
  }

  try {
    for await (const o of pool.wrap(records(), wrapOptions)) {
      const line = lineOf.get(o.index) ?? 0;
      lineOf.delete(o.index);
      let failed = !o.ok;
      let written: Promise<void> | undefined;
      if (o.ok) {
        try {
          written = out.write(resultLine(o.value, options.withLine ? line : undefined));
        } catch (notJson) {
          failed = true;
          written = failures.failed(line, o.input, notJson);
        }
      } else {
        written = failures.failed(line, o.input, o.error);
      }
      const released = failures.written();
      progress.tick(failed);
      gate.release();
      // Waiting here is the backpressure: a slow reader of the output slows the input.
      if (written !== undefined) await written;
      if (released !== undefined) await released;
    }
  } catch (readError) {
    // Only the input throws into the stream; it has settled every record taken before.
    error ??= readError instanceof CorralError ? readError : new InputError(input.name, readError);
    failed.abort();
  }
  await failures.end();
  return { tally: progress.stop(), error, closed };
}

/**
 * What the commands share: the parsers of their flags' values, the loading of the optional
 * NATS client, and the way they show errors and tables.
 *
 * @module
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Isolation, RecycleOptions } from '../pool/options.js';
import { CorralError } from '../util/errors.js';
import { parseDuration } from '../nats/shared/duration.js';
import { isNatsClientMissing, NatsClientMissingError } from '../nats/shared/errors.js';

/** The NATS module: governors, queues, hosts. */
export type Nats = typeof import('../nats/index.js');

/**
 * The NATS classes, loaded when a command that needs them runs rather than when `corral`
 * starts: other commands must work without the optional NATS client installed.
 */
export async function loadNats(): Promise<Nats> {
  return import('../nats/index.js').catch((error: unknown) => {
    throw isNatsClientMissing(error) ? new NatsClientMissingError({ cause: error }) : error;
  });
}

/** A whole number of at least `min`, or `undefined`. */
function whole(value: string, min: number): number | undefined {
  const n = Number(value);
  return /^\d+$/.test(value) && Number.isSafeInteger(n) && n >= min ? n : undefined;
}

/** A parser of a flag whose value is an integer of at least `min`. */
export function integer(flag: string, min: number) {
  return (value: string): number => {
    const n = whole(value, min);
    if (n === undefined) {
      throw new InvalidArgumentError(`${flag} must be an integer >= ${min}; got '${value}'.`);
    }
    return n;
  };
}

/** A parser of an argument that is a positive integer. */
export function positiveInteger(what: string) {
  return (value: string): number => {
    const n = whole(value, 1);
    if (n === undefined) throw new InvalidArgumentError(`${what} must be a positive integer.`);
    return n;
  };
}

/** The `--recycle-*` flags as commander hands them over. */
export interface RecycleFlags {
  recycleAfterJobs?: number;
  recycleHeapAbove?: number;
}

/** Adds the `--recycle-*` flags (`recycle` pool option) to a command that runs a pool. */
export function recycleFlags(command: Command): Command {
  return command
    .option(
      '--recycle-after-jobs <n>',
      'replace a worker after it has run N jobs (none fails; cleanup() runs)',
      integer('--recycle-after-jobs', 1),
    )
    .option(
      '--recycle-heap-above <mb>',
      "replace a worker once its used V8 heap is above MB megabytes (a leak's cure)",
      integer('--recycle-heap-above', 1),
    );
}

/** The `--isolation` flag as commander hands it over. */
export interface IsolationFlags {
  isolation?: Isolation;
}

/** Adds `--isolation thread|process` (the `isolation` pool option) to a command that runs a pool. */
export function isolationFlag(command: Command): Command {
  return command.addOption(
    new Option(
      '--isolation <where>',
      'run each worker in a thread, or in a child process so that a native crash kills only it (default: thread)',
    ).choices(['thread', 'process']),
  );
}

/** The pool's `isolation` option from `--isolation`, if it was given. */
export function isolationOption(flags: IsolationFlags): { isolation?: Isolation } {
  return flags.isolation === undefined ? {} : { isolation: flags.isolation };
}

/** The pool's `recycle` option from the `--recycle-*` flags, if any was given. */
export function recycleOption(flags: RecycleFlags): { recycle?: RecycleOptions } {
  const recycle: RecycleOptions = {};
  if (flags.recycleAfterJobs !== undefined) recycle.afterJobs = flags.recycleAfterJobs;
  if (flags.recycleHeapAbove !== undefined) recycle.heapAbove = flags.recycleHeapAbove * 2 ** 20;
  return Object.keys(recycle).length === 0 ? {} : { recycle };
}

/** Parses a duration (`500ms`, `5m`) to milliseconds. */
export function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

/** An error's message, code and cause on one line, for stderr. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = error instanceof CorralError ? ` (${error.code})` : '';
  const cause =
    error.cause instanceof Error && !error.message.includes(error.cause.message)
      ? `: ${error.cause.message}`
      : '';
  return `${error.message}${code}${cause}`;
}

/** Rows as columns padded to their widest cell. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
/** Writes an error to stderr as `corral: message (code)`. */
export function report(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof CorralError ? ` (${error.code})` : '';
  process.stderr.write(`corral: ${message}${code}\n`);
}

/** Reports an error and sets the exit code to 1. */
export function fail(error: unknown): void {
  report(error);
  process.exitCode = 1;
}

/**
 * Where `corral map` writes: results as JSON lines (stdout or `--output`), failures as
 * JSON lines (stderr or `--errors`). Lines are buffered into large writes and the writer
 * waits for the stream to drain, so a slow reader of stdout slows the run, not memory.
 *
 * @module
 */
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { OutputError, ResultNotJsonError } from './errors.js';

/**
 * Whether an output failed because its reader went away (EPIPE: `corral map ... | head -1`),
 * which ends the run quietly rather than as an error.
 */
export function isClosedPipe(error: OutputError): boolean {
  return (error.cause as { code?: unknown } | undefined)?.code === 'EPIPE';
}

/** Something that takes whole lines (each ending with `\n`). */
export interface LineSink {
  /** Takes a line; returns a promise when the caller should wait before writing more. */
  write(line: string): Promise<void> | undefined;
}

/** Characters buffered before a write to the stream. */
const CHUNK = 64 * 1024;
/** Buffered lines are written at the latest this long after the first of them (ms). */
const LINGER_MS = 50;

/**
 * Buffers lines and writes them to a stream in large chunks, honouring backpressure.
 * A write error is reported once through `onError`; later lines are dropped.
 */
export class LineWriter implements LineSink, AsyncDisposable {
  /** The stream written to. */
  readonly #stream: Writable;
  /** End the stream on close (a file), or leave it open (stdout, stderr). */
  readonly #owned: boolean;
  /** For messages: the file name, `stdout` or `stderr`. */
  readonly #name: string;
  /** Lines waiting to be written. */
  #parts: string[] = [];
  /** Characters in {@link LineWriter.#parts}. */
  #size = 0;
  /** Flushes the buffer after {@link LINGER_MS}, while lines wait. */
  #timer: NodeJS.Timeout | undefined;
  /** The stream refused more: wait for 'drain' before adding to it. */
  #full = false;
  /** Callers waiting for the stream to drain (or fail). */
  #waiters: (() => void)[] = [];
  /** The first write error; once set, nothing more is written. */
  #error: OutputError | undefined;
  /** Told of the first write error, to stop the run. */
  readonly #onError: (error: OutputError) => void;

  constructor(stream: Writable, name: string, owned: boolean, onError: (e: OutputError) => void) {
    this.#stream = stream;
    this.#name = name;
    this.#owned = owned;
    this.#onError = onError;
    stream.on('error', this.#fail);
    stream.on('drain', this.#drained);
  }

  /** Opens `path` for writing (truncating it), or wraps `fallback` when there is no path. */
  static async open(
    path: string | undefined,
    fallback: Writable,
    fallbackName: string,
    onError: (e: OutputError) => void,
  ): Promise<LineWriter> {
    if (path === undefined) return new LineWriter(fallback, fallbackName, false, onError);
    try {
      const handle = await open(path, 'w');
      return new LineWriter(handle.createWriteStream(), path, true, onError);
    } catch (error) {
      throw new OutputError(path, error);
    }
  }

  write(line: string): Promise<void> | undefined {
    if (this.#error !== undefined) return undefined;
    this.#parts.push(line);
    this.#size += line.length;
    if (this.#size >= CHUNK) this.#flush();
    else {
      this.#timer ??= setTimeout(() => {
        this.#flush();
      }, LINGER_MS).unref();
    }
    return this.#full ? this.#whenDrained() : undefined;
  }

  /** Writes what is buffered, waits until the stream has taken it, and ends a file. */
  async close(): Promise<void> {
    this.#flush();
    await this.#whenDrained();
    this.#stream.off('drain', this.#drained);
    if (this.#owned && this.#error === undefined) {
      this.#stream.end();
      await once(this.#stream, 'close').catch(() => undefined);
    }
    // The error listener stays: a late EPIPE on stdout must not become an uncaught error.
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#parts.length === 0 || this.#error !== undefined) return;
    const chunk = this.#parts.join('');
    this.#parts = [];
    this.#size = 0;
    if (!this.#stream.write(chunk)) this.#full = true;
  }

  #whenDrained(): Promise<void> {
    if (!this.#full) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The stream took its buffer, or failed and never will: no one should wait any longer. */
  #wake(): void {
    this.#full = false;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  readonly #drained = (): void => {
    this.#wake();
  };

  readonly #fail = (cause: unknown): void => {
    if (this.#error !== undefined) return;
    this.#error = new OutputError(this.#name, cause);
    this.#wake();
    this.#onError(this.#error);
  };
}

/**
 * The JSON line for a result, `undefined` becoming `null`; with `line`, the result and its
 * input line number as `{"line":N,"result":...}`. Throws {@link ResultNotJsonError}.
 */
export function resultLine(value: unknown, line?: number): string {
  // JSON.stringify gives undefined for undefined, functions and symbols, whatever its type says.
  const stringify = JSON.stringify as (value: unknown) => string | undefined;
  let json: string | undefined;
  try {
    json = stringify(value);
  } catch (error) {
    throw new ResultNotJsonError(error);
  }
  json ??= 'null';
  return line === undefined ? `${json}\n` : `{"line":${line},"result":${json}}\n`;
}

/** `{name, message, code}` of anything thrown; `code` is null when it has none. */
function errorFields(error: unknown): { name: string; message: string; code: unknown } {
  if (typeof error !== 'object' || error === null) {
    return { name: 'Error', message: String(error), code: null };
  }
  const e = error as { name?: unknown; message?: unknown; code?: unknown };
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : '',
    code: typeof e.code === 'string' || typeof e.code === 'number' ? e.code : null,
  };
}

/** The JSON line for a failed record: `{"line":N,"input":...,"error":{"name","message","code"}}`. */
export function failureLine(line: number, input: unknown, error: unknown): string {
  // `input` came from JSON (or is a line of text), so it always serialises.
  return `${JSON.stringify({ line, input, error: errorFields(error) })}\n`;
}

/** Malformed lines held back, with `--ordered`, before the reader waits for the output to catch up. */
const MAX_HELD = 1024;

/**
 * Writes failed records. Failures of records run on the pool arrive in the output's order
 * already; with `--ordered`, a malformed line (which never reaches the pool) is held until
 * the records before it are written, so the failures too are in input order.
 */
export class FailureLog {
  /** Where failure lines go. */
  readonly #sink: LineSink;
  /** Hold malformed lines back to keep failures in input order. */
  readonly #ordered: boolean;
  /** Outcomes written so far (with `--ordered`, they are the first `#written` records). */
  #written = 0;
  /** Held malformed lines, oldest first: each waits until `after` outcomes are written. */
  #held: { after: number; text: string }[] = [];
  /** The reader, waiting for room among the held lines. */
  #waiter: (() => void) | undefined;

  constructor(sink: LineSink, ordered: boolean) {
    this.#sink = sink;
    this.#ordered = ordered;
  }

  /** A record that failed on the pool (or whose result is not JSON). */
  failed(line: number, input: unknown, error: unknown): Promise<void> | undefined {
    return this.#sink.write(failureLine(line, input, error));
  }

  /**
   * A line that did not parse, read after `after` records. Resolves when the reader may
   * go on; that is at once unless too many malformed lines are held.
   */
  async malformed(after: number, line: number, text: string, error: unknown): Promise<void> {
    const entry = failureLine(line, text, error);
    if (!this.#ordered || after <= this.#written) {
      await this.#sink.write(entry);
      return;
    }
    this.#held.push({ after, text: entry });
    if (this.#held.length >= MAX_HELD) await new Promise<void>((r) => (this.#waiter = r));
  }

  /** One more outcome was written: writes the held lines that were waiting for it. */
  written(): Promise<void> | undefined {
    this.#written++;
    return this.#release(this.#written);
  }

  /** The run is over: writes every held line. */
  end(): Promise<void> | undefined {
    return this.#release(Number.POSITIVE_INFINITY);
  }

  #release(upTo: number): Promise<void> | undefined {
    let wait: Promise<void> | undefined;
    let n = 0;
    for (const held of this.#held) {
      if (held.after > upTo) break;
      wait = this.#sink.write(held.text) ?? wait;
      n++;
    }
    if (n === 0) return undefined;
    this.#held = this.#held.slice(n);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
    return wait;
  }
}

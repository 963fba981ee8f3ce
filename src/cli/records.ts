/**
 * `corral map`'s input: lines with their numbers, from a file or stdin, parsed as JSON
 * lines or taken as plain strings. A line that does not parse is a failed record, not an error.
 *
 * @module
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { onAbort } from '../util/abort.js';
import { InputError, InvalidRecordError } from './errors.js';

/** How input lines become records: one JSON value per line, or each line as a string. */
export type RecordFormat = 'jsonl' | 'lines';

/** One line of input; `line` counts from 1. */
export interface Line {
  readonly line: number;
  readonly text: string;
}

/** What one line is: a record, nothing (a blank JSON line), or a line that did not parse. */
export type Parsed =
  | { readonly kind: 'record'; readonly value: unknown }
  | { readonly kind: 'blank' }
  | { readonly kind: 'bad'; readonly error: InvalidRecordError };

/** An opened input: a file, or stdin. */
export interface Input {
  /** The path for messages, or `stdin`. */
  readonly name: string;
  /** The file's path, to count its lines; undefined for stdin. */
  readonly path: string | undefined;
  readonly stream: Readable;
}

/**
 * Opens the input now, so a missing or unreadable file is reported before any work starts.
 * `undefined` or `-` means stdin.
 */
export async function openInput(path: string | undefined): Promise<Input> {
  if (path === undefined || path === '-') {
    return { name: 'stdin', path: undefined, stream: process.stdin };
  }
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    // open() succeeds on a directory; reading it would fail only later.
    if ((await handle.stat()).isDirectory()) throw new Error('it is a directory');
  } catch (error) {
    await handle?.close();
    throw new InputError(path, error);
  }
  return { name: path, path, stream: handle.createReadStream({ encoding: 'utf8' }) };
}

function withoutCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * Yields the stream's lines with their numbers. `\r\n` counts as a line end, a leading
 * byte-order mark is dropped, and an unterminated last line is still a line. When `signal`
 * aborts, the stream is destroyed and the lines end quietly.
 */
export async function* readLines(stream: Readable, signal?: AbortSignal): AsyncGenerator<Line> {
  // A call, not a property read: TS would keep the narrowing from the first check.
  const aborted = (): boolean => signal?.aborted === true;
  if (aborted()) return;
  stream.setEncoding('utf8');
  const unlisten = onAbort(signal, () => {
    stream.destroy();
  });
  let rest = '';
  let line = 0;
  let first = true;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const text = first && chunk.startsWith('\uFEFF') ? chunk.slice(1) : chunk;
      first = false;
      let start = 0;
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        const piece = rest + text.slice(start, end);
        rest = '';
        start = end + 1;
        yield { line: ++line, text: withoutCr(piece) };
        if (aborted()) return;
      }
      rest += text.slice(start);
    }
    if (rest !== '') yield { line: ++line, text: withoutCr(rest) };
  } catch (error) {
    if (aborted()) return;
    throw error;
  } finally {
    unlisten();
    stream.destroy();
  }
}

/** Turns one line into a record. Blank JSON lines are skipped; every plain line is a record. */
export function parseRecord(text: string, format: RecordFormat): Parsed {
  if (format === 'lines') return { kind: 'record', value: text };
  if (text.trim() === '') return { kind: 'blank' };
  try {
    return { kind: 'record', value: JSON.parse(text) as unknown };
  } catch (error) {
    return { kind: 'bad', error: new InvalidRecordError(error) };
  }
}

/**
 * Counts a file's lines the way {@link readLines} does (an unterminated last line counts),
 * for the progress bar's total. Resolves `undefined` if the file cannot be read or `signal` aborts.
 */
export async function countLines(path: string, signal?: AbortSignal): Promise<number | undefined> {
  let lines = 0;
  let last = 0x0a;
  try {
    const stream = createReadStream(path, { highWaterMark: 1 << 20, signal });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++;
      if (chunk.length > 0) last = chunk[chunk.length - 1] ?? last;
    }
  } catch {
    return undefined;
  }
  return last === 0x0a ? lines : lines + 1;
}

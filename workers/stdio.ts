/**
 * Counts the bytes this thread writes to `process.stdout` and `process.stderr`.
 *
 * In a worker thread those streams do not write to a file descriptor: Node posts each
 * chunk to the main thread over an internal port, and sends the next chunk only once
 * the main thread asks for more. So when a task returns, most of what it wrote may still
 * sit in this thread or in that port; if the main thread's process then ends (an idle
 * pool does not keep it alive), the output is lost. The count travels with each batch of
 * results, and the pool keeps the thread referenced until it has received that many bytes
 * (see `src/stdio-watch.ts`): what a task wrote before its result reaches the process's
 * own stdout and stderr before the process can exit.
 */
import { Buffer } from 'node:buffer';

/** Bytes accepted by the two streams' `write()` since the thread started. */
let written = 0;

/** Starts counting; call once, before the task module loads. */
export function countStdio(): void {
  count(process.stdout);
  count(process.stderr);
}

/** Bytes written to stdout and stderr so far. */
export function stdioWritten(): number {
  return written;
}

function count(stream: NodeJS.WriteStream): void {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = (chunk: unknown, ...rest: unknown[]): boolean => {
    // A write after end() or destroy() fails and sends nothing: it must not be waited for.
    const live = !stream.writableEnded && !stream.destroyed;
    // Throws (and is not counted) for a chunk the stream refuses.
    const ok = write(chunk, ...rest);
    if (live) written += byteLength(chunk, rest[0]);
    return ok;
  };
}

/** The bytes the main thread receives for a chunk (it turns strings into Buffers). */
function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk !== 'string') return (chunk as Uint8Array).byteLength;
  const enc = typeof encoding === 'string' ? encoding : 'utf8';
  if (enc === 'utf8' || enc === 'utf-8' || !Buffer.isEncoding(enc)) return Buffer.byteLength(chunk);
  // byteLength only estimates some encodings (base64 with spaces, say): decode those.
  return Buffer.from(chunk, enc).length;
}

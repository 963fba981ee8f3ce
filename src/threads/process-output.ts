/**
 * Relays a worker process's stdout or stderr pipe into this process's own stream, a line at
 * a time where it can. A pipe is read in chunks that end anywhere, and this process writes
 * to the same stream (its own lines, other children's): written as read, a chunk ending
 * mid-line would have them land inside that line. So a chunk is written up to its last
 * newline, and the rest joins the next chunk read in the same turn of the event loop, or
 * is written alone right after it (`setImmediate`): nothing is held longer, so nothing
 * waits on a line the task never ends. Thread mode needs none of this: Node relays a
 * thread's output one `write()` call at a time.
 */
import type { Readable, Writable } from 'node:stream';

export function relayLines(from: Readable, to: Writable): void {
  let tail: Buffer | undefined;
  let flushing = false;
  // As `pipe()` does: a child that outwrites this process's reader waits, not this heap.
  const write = (bytes: Buffer): void => {
    if (to.write(bytes) || from.isPaused()) return;
    from.pause();
    to.once('drain', () => from.resume());
  };
  const flush = (): void => {
    flushing = false;
    if (tail === undefined) return;
    write(tail);
    tail = undefined;
  };
  from.on('data', (chunk: Buffer) => {
    const data = tail === undefined ? chunk : Buffer.concat([tail, chunk]);
    const end = data.lastIndexOf(0x0a) + 1;
    if (end > 0) write(data.subarray(0, end));
    tail = end < data.length ? data.subarray(end) : undefined;
    if (tail !== undefined && !flushing) {
      flushing = true;
      setImmediate(flush);
    }
  });
  from.on('end', flush);
}

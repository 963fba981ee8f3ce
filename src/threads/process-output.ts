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

/**
 * One destination's listeners, shared by every relay into it: a pool of many processes
 * would otherwise put one `'drain'` and one `'close'` listener each on `process.stdout`.
 */
interface Destination {
  /** Relays paused until the destination drains. */
  readonly waiting: Set<() => void>;
  /** Relays to stop when the destination closes. */
  readonly relays: Set<() => void>;
}

const destinations = new WeakMap<Writable, Destination>();

function destination(to: Writable): Destination {
  let d = destinations.get(to);
  if (d !== undefined) return d;
  const made: Destination = { waiting: new Set(), relays: new Set() };
  to.on('drain', () => {
    const waiting = [...made.waiting];
    made.waiting.clear();
    for (const resume of waiting) resume();
  });
  to.once('close', () => {
    for (const stop of [...made.relays]) stop();
  });
  destinations.set(to, made);
  d = made;
  return d;
}

export function relayLines(from: Readable, to: Writable): void {
  const dest = destination(to);
  let tail: Buffer | undefined;
  let flushing = false;
  const resume = (): void => {
    from.resume();
  };
  // As `pipe()` does: a child that outwrites this process's reader waits, not this heap.
  const write = (bytes: Buffer): void => {
    if (to.destroyed || to.write(bytes) || from.isPaused()) return;
    from.pause();
    dest.waiting.add(resume);
  };
  const flush = (): void => {
    flushing = false;
    if (tail === undefined) return;
    write(tail);
    tail = undefined;
  };
  const onData = (chunk: Buffer): void => {
    const data = tail === undefined ? chunk : Buffer.concat([tail, chunk]);
    const end = data.lastIndexOf(0x0a) + 1;
    if (end > 0) write(data.subarray(0, end));
    tail = end < data.length ? data.subarray(end) : undefined;
    if (tail !== undefined && !flushing) {
      flushing = true;
      setImmediate(flush);
    }
  };
  // The destination closed (its reader went away: EPIPE): as `pipe()` does, stop relaying,
  // which tells the handle's `StdioWatch` that nothing more will arrive.
  const stop = (): void => {
    from.off('data', onData);
    dest.waiting.delete(resume);
    dest.relays.delete(stop);
    tail = undefined;
    from.resume();
  };
  from.on('data', onData);
  from.once('end', flush);
  dest.relays.add(stop);
  from.once('close', () => {
    dest.relays.delete(stop);
    dest.waiting.delete(resume);
  });
}

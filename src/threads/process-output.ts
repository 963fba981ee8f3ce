/**
 * Relays a worker process's stdout or stderr pipe into this process's own stream, a line at
 * a time where it can. A pipe is read in chunks that end anywhere (a read stops at 64 KiB,
 * in the middle of a line a loud child wrote whole), and this process writes to the same
 * stream (its own lines, other children's): written as read, a chunk ending mid-line would
 * have them land inside that line. So a chunk is written up to its last newline, and the
 * rest waits for the chunk that ends its line. It waits {@link HOLD_MS} at most, and while
 * it is under {@link MAX_HELD} bytes; then it is written alone, so that a line the task
 * never ends (a prompt, a progress bar) still shows. When the pipe ends, it goes at once.
 * (Writing it at the next turn of the event loop was not enough: the rest of the line
 * came a turn later, after another child's lines, and 2 lines of 20,000 came out cut.)
 * Thread mode needs none of this: Node relays a thread's output one `write()` call at a
 * time.
 */
import type { Readable, Writable } from 'node:stream';

/** How long the start of a line waits for its end, in ms. */
export const HOLD_MS = 20;
/** The most of a line held back, in bytes: a longer line cannot be kept whole anyway. */
export const MAX_HELD = 64 * 1024;

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
  /** Writes the tail alone if its line has not ended in time. */
  let timer: NodeJS.Timeout | undefined;
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
    clearTimeout(timer);
    timer = undefined;
    if (tail === undefined) return;
    write(tail);
    tail = undefined;
  };
  const onData = (chunk: Buffer): void => {
    const data = tail === undefined ? chunk : Buffer.concat([tail, chunk]);
    const end = data.lastIndexOf(0x0a) + 1;
    if (end > 0) write(data.subarray(0, end));
    tail = end < data.length ? data.subarray(end) : undefined;
    if (tail === undefined) {
      clearTimeout(timer);
      timer = undefined;
    } else if (tail.length >= MAX_HELD) {
      flush();
    } else if (end > 0 || timer === undefined) {
      // The hold counts from the line's start: a line that keeps growing is not held forever.
      if (end > 0) clearTimeout(timer);
      // Not unref'd: a held tail keeps this process alive until it is written (20 ms at most).
      timer = setTimeout(flush, HOLD_MS);
    }
  };
  // The destination closed (its reader went away: EPIPE): as `pipe()` does, stop relaying,
  // which tells the handle's `StdioWatch` that nothing more will arrive.
  const stop = (): void => {
    from.off('data', onData);
    dest.waiting.delete(resume);
    dest.relays.delete(stop);
    clearTimeout(timer);
    timer = undefined;
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

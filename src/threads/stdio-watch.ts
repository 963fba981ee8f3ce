/**
 * Tells whether the main thread has received all that one worker thread wrote to its
 * `process.stdout` and `process.stderr` up to its last results, or up to when it closed
 * (see `workers/stdio.ts` for why that output can lag behind, and how it is counted).
 *
 * Node pipes a worker's stdio into the process's own stdout and stderr, which on Linux
 * are written synchronously; a byte seen here has been handed to them. While a thread is
 * {@link StdioWatch.behind}, its handle keeps it referenced, so the process does not exit
 * with that output still in flight; and a thread that closed is terminated only after.
 */
import type { Readable } from 'node:stream';

export class StdioWatch {
  /** Bytes received from the thread's stdout and stderr. */
  #received = 0;
  /** Bytes the thread had written when it sent its latest results. */
  #expected = 0;
  /** Whether a stream stopped flowing for good (its destination closed): then the watch waits no more. */
  #stalled = false;
  /** Called when the watch stops being behind. */
  readonly #onCaughtUp: () => void;
  /** Callers of {@link StdioWatch.whenCaughtUp} waiting. */
  #waiters: (() => void)[] = [];

  constructor(
    worker: { readonly stdout: Readable; readonly stderr: Readable },
    onCaughtUp: () => void,
  ) {
    this.#onCaughtUp = onCaughtUp;
    this.#watch(worker.stdout);
    this.#watch(worker.stderr);
  }

  /** Whether output the thread wrote before its latest results has yet to arrive. */
  get behind(): boolean {
    return this.#behind();
  }

  /** The thread reported `written` bytes (with a batch of results, or as it closed). */
  expect(written: number | undefined): void {
    if (written !== undefined && written > this.#expected) this.#expected = written;
  }

  /** Calls `fn` once nothing is {@link StdioWatch.behind} (at once if nothing is). */
  whenCaughtUp(fn: () => void): void {
    if (this.#behind()) this.#waiters.push(fn);
    else fn();
  }

  #caughtUp(): void {
    this.#onCaughtUp();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const fn of waiters) fn();
  }

  #behind(): boolean {
    return this.#received < this.#expected && !this.#stalled;
  }

  #watch(stream: Readable): void {
    // A listener after Node's own pipe: by the time it runs, the chunk was written out.
    stream.on('data', (chunk: Buffer) => {
      const was = this.#behind();
      this.#received += chunk.length;
      if (was && !this.#behind()) this.#caughtUp();
    });
    // Node unpipes the stream for good when the destination closes or fails (EPIPE): it
    // then removes its own 'data' listener, and with only this one left nothing more flows.
    stream.on('removeListener', (event: string | symbol) => {
      if (event !== 'data' || stream.listenerCount('data') > 1 || this.#stalled) return;
      const was = this.#behind();
      this.#stalled = true;
      if (was) this.#caughtUp();
    });
  }
}

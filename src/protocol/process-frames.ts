/**
 * The wire between the pool and a worker running in a child process (`isolation:
 * 'process'`), below the thread protocol of `messages.ts`, which it carries unchanged.
 *
 * Child to pool: frames on the child's fd 3, written with `fs.writeSync`, so that each is in
 * the kernel before the child goes on (a signal that kills the child loses nothing it wrote;
 * Node's IPC channel, asynchronous, loses what it had not flushed). A frame is a 4-byte
 * length, a kind byte, then either a `v8.serialize`d message or the two crash counters.
 *
 * Pool to child: messages on Node's IPC channel (`serialization: 'advanced'`), where a loss
 * at a crash does not matter: the pool triages what the child had not started anyway. But a
 * child running synchronous jobs back to back reads IPC only between them, too late for a
 * cancel or a steal of a job it holds, which a thread sees before its next job through
 * shared memory. So those ({@link ControlFrame}) also go as frames on the child's fd 4, which
 * the child reads without waiting right before each job starts; each carries a number, so
 * the child applies it once, by whichever way it came first.
 *
 * @module
 */
import { deserialize, serialize } from 'node:v8';
import { InternalError } from '../util/errors.js';
import type { BootData, CancelMessage, FromWorker, StealMessage, ToWorker } from './messages.js';
import type { WireError } from './wire-error.js';

/** Kinds of frame. */
const MESSAGE = 0;
const MARK = 1;
/** Length prefix and kind byte. */
const HEADER = 5;

/** The child died of an uncaught error: what it was (sent before the child exits). */
export interface UncaughtFrame {
  type: 'uncaught';
  error: WireError;
}

/** Everything that travels child to pool as a message frame. */
export type FromChild = FromWorker | UncaughtFrame;

/** What the child is booted with: the thread's boot data less what cannot leave the process. */
export type ChildBoot = Omit<BootData, 'port' | 'progress'>;

/** The first message to a child: its boot data. */
export interface BootFrame {
  type: 'boot';
  boot: ChildBoot;
}

/**
 * The keyed targets' counters as the pool has them now (a copy), sent before a batch of
 * jobs: a process cannot share the pool's memory, so `counts()` in a task reads this copy.
 */
export interface CountsFrame {
  type: 'counts';
  values: Int32Array;
}

/** A cancel or a steal, numbered from 1 in the order sent (see the module's notes). */
export interface ControlFrame {
  type: 'control';
  seq: number;
  message: CancelMessage | StealMessage;
}

/** Everything that travels pool to child by IPC. */
export type ToChild =
  Exclude<ToWorker, CancelMessage | StealMessage> | BootFrame | CountsFrame | ControlFrame;

/** A message as one frame. Throws (a clone error) if the message cannot be serialised. */
export function messageFrame(message: FromChild | ControlFrame): Buffer {
  const body = serialize(message);
  const frame = Buffer.allocUnsafe(HEADER + body.length);
  frame.writeUInt32LE(body.length + 1, 0);
  frame[4] = MESSAGE;
  body.copy(frame, HEADER);
  return frame;
}

/** The crash counters STARTED and FINISHED (see `BootData.progress`) as one frame. */
export function markFrame(frame: Buffer, started: number, finished: number): Buffer {
  frame.writeUInt32LE(9, 0);
  frame[4] = MARK;
  frame.writeInt32LE(started, HEADER);
  frame.writeInt32LE(finished, HEADER + 4);
  return frame;
}

/** Bytes of a {@link markFrame}. */
export const MARK_BYTES = HEADER + 8;

/** Reads frames of messages `M` from the bytes of a pipe as they come, in any cuts. */
export class FrameReader<M> {
  /** Bytes received and not yet read as whole frames. */
  #buffered: Buffer = Buffer.alloc(0);
  readonly #onMessage: (message: M) => void;
  readonly #onMark: (started: number, finished: number) => void;

  constructor(
    onMessage: (message: M) => void,
    onMark: (started: number, finished: number) => void = () => undefined,
  ) {
    this.#onMessage = onMessage;
    this.#onMark = onMark;
  }

  /** Reads every whole frame in what has arrived, `chunk` included. */
  push(chunk: Buffer): void {
    let data = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    let at = 0;
    while (data.length - at >= 4) {
      const length = data.readUInt32LE(at);
      if (data.length - at - 4 < length) break;
      const kind = data[at + 4];
      if (kind === MARK) {
        this.#onMark(data.readInt32LE(at + HEADER), data.readInt32LE(at + HEADER + 4));
      } else if (kind === MESSAGE) {
        this.#onMessage(deserialize(data.subarray(at + HEADER, at + 4 + length)) as M);
      } else {
        throw new InternalError(`unknown frame kind ${String(kind)} from a worker process`);
      }
      at += 4 + length;
    }
    data = data.subarray(at);
    // Keep a copy only of a partial frame (the chunk's memory is Node's to reuse).
    this.#buffered = data.length === 0 ? Buffer.alloc(0) : Buffer.from(data);
  }
}

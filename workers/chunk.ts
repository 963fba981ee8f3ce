/**
 * A chunk (`JobFlag.Chunk`): one job on the wire whose input is an array of inputs, each
 * run as a job of its own, one after another, each under its own sequence number (the
 * STARTED and FINISHED counters move per input, so crash triage still judges each input).
 * The pool sends chunks only for tiny jobs of streams that use no per-job feature, so one
 * message, one held entry and one result carry many inputs.
 *
 * @module
 */
import type { Transferable } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { FINISHED, STARTED } from '../src/protocol/messages.js';
import { ResultStatus, isTransfer, type ChunkAnswer } from '../src/protocol/codec.js';
import { toWire } from '../src/protocol/wire-error.js';
import type { JobContext } from './context.js';
import type { TaskFn } from './modules.js';
import type { ResultOutbox } from './result-outbox.js';

/** What a chunk needs of the runtime. */
export interface ChunkHost {
  /** The thread's crash counters (`BootData.progress`): each input moves them. */
  readonly progress: Int32Array;
  /** Called after each move of those counters in a child process (see `RuntimeBoot.mark`). */
  readonly mark: (() => void) | undefined;
  /** Where the chunk's answer goes. */
  readonly outbox: ResultOutbox;
  /** Chunks running now: a thread about to die sends what they finished ({@link Chunk.sendPart}). */
  readonly live: Set<Chunk>;
  /** A fresh context for the chunk's next input, registered as the chunk's (for cancels). */
  context(chunk: Chunk): JobContext;
  /** Takes the messages waiting in the port if the pool counted a cancel since the last look. */
  checkCancels(): void;
  /** The chunk ended (all its inputs ran, or it was cancelled): its answer is in the outbox. */
  ended(chunk: Chunk): void;
  /** An input answered asynchronously and the chunk ended: the thread goes on. */
  resume(): void;
}

export class Chunk {
  readonly id: number;
  readonly task: number;
  /** Sequence number of the first input; input `k` has `seq + k`. */
  readonly seq: number;
  readonly tries: number;
  readonly started = performance.now();
  readonly #inputs: unknown[];
  readonly #fn: TaskFn;
  readonly #host: ChunkHost;
  /** The host's crash counters, kept at hand: every input stores to them twice. */
  readonly #progress: Int32Array;
  readonly #answer: ChunkAnswer = [];
  #transfer: Transferable[] | undefined;
  /** Inputs answered so far (the next one to run). */
  #next = 0;
  /** The context of the input running or last run: each input gets its own, as a job would. */
  #ctx: JobContext | undefined;

  constructor(
    job: { id: number; task: number; seq: number; input: unknown; tries: number },
    fn: TaskFn,
    host: ChunkHost,
  ) {
    this.id = job.id;
    this.task = job.task;
    this.seq = job.seq;
    this.tries = job.tries;
    this.#inputs = job.input as unknown[];
    this.#fn = fn;
    this.#host = host;
    this.#progress = host.progress;
  }

  /** Whether the pool cancelled the chunk (through whichever input was running). */
  get cancelled(): boolean {
    return this.#ctx?.cancelled === true;
  }

  /** Sequence number of the last input. */
  get lastSeq(): number {
    return this.seq + this.#inputs.length - 1;
  }

  /** Inputs answered. */
  get answered(): number {
    return this.#next;
  }

  /** Runs the inputs from the next one on, until one is asynchronous or all are done. */
  run(): void {
    this.#host.live.add(this);
    const inputs = this.#inputs;
    const progress = this.#progress;
    while (this.#next < inputs.length && !this.cancelled) {
      const seq = this.seq + this.#next;
      const ctx = (this.#ctx = this.#host.context(this));
      // Claimed, then cancels looked for (the order that makes a counted cancel visible).
      Atomics.store(progress, STARTED, seq);
      this.#host.mark?.();
      this.#host.checkCancels();
      if (ctx.cancelled) break; // the pool settled the chunk already: the rest never runs
      let result: unknown;
      try {
        result = this.#fn(inputs[this.#next], ctx);
      } catch (error) {
        this.#add(false, error, seq);
        continue;
      }
      if (typeof (result as PromiseLike<unknown> | null)?.then === 'function') {
        Promise.resolve(result).then(
          (value) => {
            this.#add(true, value, seq);
            this.#resume();
          },
          (error: unknown) => {
            this.#add(false, error, seq);
            this.#resume();
          },
        );
        return;
      }
      this.#add(true, result, seq);
    }
    this.#host.live.delete(this);
    this.#send(ResultStatus.Chunk);
    this.#host.ended(this);
  }

  #resume(): void {
    this.run();
    if (!this.#host.live.has(this)) this.#host.resume();
  }

  #add(ok: boolean, value: unknown, seq: number): void {
    if (ok && isTransfer(value)) {
      this.#transfer =
        this.#transfer === undefined ? [...value.list] : this.#transfer.concat(value.list);
      value = value.value;
    }
    this.#answer.push(ok ? ResultStatus.Ok : ResultStatus.Error, ok ? value : toWire(value));
    this.#next++;
    Atomics.store(this.#progress, FINISHED, seq);
    this.#host.mark?.();
  }

  #send(status: ResultStatus): void {
    const outbox = this.#host.outbox;
    if (this.#transfer !== undefined) outbox.addTransfer(this.#transfer);
    outbox.answer(this.id, status, this.#answer, Math.max(1, this.#next));
  }

  /** The thread is about to die: what this chunk finished goes into the outbox (as a `Part`). */
  sendPart(): void {
    if (this.#next > 0) this.#send(ResultStatus.Part);
  }
}

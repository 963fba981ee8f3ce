/**
 * A batch of inputs run for corral's own code, not through a stream: a queue host hands
 * the jobs of a message to its local pool this way. The inputs are all in memory and few
 * (a host's lookahead), and the caller wants each outcome as it settles, so nothing of a
 * stream is needed (no source to pull, no window, no outcome buffer, no async iterator, no
 * abort listener): each input becomes a job (or tiny ones share a chunk, as in a stream)
 * whose owner is the batch, and each outcome goes to one callback, synchronously.
 *
 * The caller builds the options itself, so only what may come from elsewhere (a job
 * message's task, timeout, tries and keys) is checked, once per batch, with the messages
 * `pool.do` gives. Reached through `pool[runBatch]`; not public API.
 *
 * @module
 */
import { checkKey } from '../keyed/key-table.js';
import { AbortError } from '../util/errors.js';
import { checkInteger, checkNonEmptyString } from '../util/validate.js';
import { Fate, type Fates } from './chunk.js';
import type { Engine } from './engine.js';
import { Job, type JobOptions, type JobOwner } from './job.js';

/** The pool's method that runs a {@link Batch} (internal: a queue host uses it). */
export const runBatch: unique symbol = Symbol('corral.runBatch');

/** What every input of a batch shares, and what each may have of its own. */
export interface BatchSpec {
  readonly task: string;
  /** Run-time limit per try, in ms; 0 for none. */
  readonly timeout: number;
  /** Tries in all, those used before this batch included. */
  readonly maxTries: number;
  /**
   * Tries every input used before this batch (elsewhere: a host lost while running it), so
   * that `ctx.tries` counts on and `maxTries` bounds the tries in all.
   */
  readonly triesUsed: number;
  /** The key of the input at an index (see `pool.setTarget`), or undefined for none. */
  readonly key?: ((index: number) => string | undefined) | undefined;
  /**
   * The W3C `traceparent` of the input at an index, or undefined: such an input runs as a
   * job of its own, in that trace.
   */
  readonly traceparent?: ((index: number) => string | undefined) | undefined;
}

/**
 * Hears each input's outcome, once, by its index in the batch, synchronously as the pool
 * settles it: keep it cheap. What it throws is rethrown in a microtask.
 */
export type BatchListener = (index: number, ok: boolean, value: unknown) => void;

/** A running batch: its inputs on the pool until each has settled. */
export class Batch implements JobOwner {
  readonly #engine: Engine;
  readonly #listener: BatchListener;
  /** The options every job of it shares. */
  readonly #options: JobOptions;
  /** Inputs not settled yet. */
  #open: number;
  /** Why it was cancelled (inputs of a chunk left to run again then settle with it). */
  #cancelled: AbortError | undefined;

  /**
   * Submits every input (some may settle at once, before this returns: a closed pool, an
   * unknown task, an invalid key). Throws `ERR_INVALID_OPTION` for a task, timeout or tries
   * that no job could have, before anything is submitted.
   */
  constructor(
    engine: Engine,
    inputs: readonly unknown[],
    spec: BatchSpec,
    listener: BatchListener,
  ) {
    checkNonEmptyString('task', spec.task);
    checkInteger('timeout', spec.timeout, 0);
    checkInteger('maxTries', spec.maxTries, 1);
    this.#engine = engine;
    this.#listener = listener;
    this.#options = { task: spec.task, timeout: spec.timeout, maxTries: spec.maxTries };
    this.#open = inputs.length;
    // Tiny inputs share chunks, as a stream's do (see chunk.ts): only a first try with no
    // timeout, since a chunk's inputs share one job's clock and tries.
    const size =
      spec.triesUsed === 0 && spec.timeout === 0 && inputs.length > 1
        ? engine.chunkSize(spec.task)
        : 1;
    const chunks = new Map<string | undefined, { inputs: unknown[]; indices: number[] }>();
    for (let index = 0; index < inputs.length; index++) {
      const input = inputs[index];
      let key: string | undefined;
      try {
        const k = spec.key?.(index);
        key = k === undefined ? undefined : checkKey(k);
      } catch (error) {
        this.#outcome(index, false, error); // this input's outcome, as in a stream
        continue;
      }
      const traceparent = spec.traceparent?.(index);
      if (size === 1 || traceparent !== undefined) {
        this.#submit(input, index, key, spec.triesUsed, traceparent);
        continue;
      }
      let chunk = chunks.get(key);
      if (chunk === undefined) {
        chunk = { inputs: [], indices: [] };
        chunks.set(key, chunk);
      }
      chunk.inputs.push(input);
      chunk.indices.push(index);
      if (chunk.inputs.length >= size) {
        chunks.delete(key);
        this.#send(key, chunk.inputs, chunk.indices);
      }
    }
    for (const [key, chunk] of chunks) this.#send(key, chunk.inputs, chunk.indices);
  }

  /** Inputs not settled yet. */
  get open(): number {
    return this.#open;
  }

  /**
   * Aborts every input not settled: queued ones at once, running ones through `ctx.signal`
   * (and `abortGrace`); each settles with an `AbortError` whose cause is `reason`.
   */
  cancel(reason: unknown): void {
    if (this.#open === 0 || this.#cancelled !== undefined) return;
    this.#cancelled = new AbortError(reason);
    this.#engine.cancelOwned(this, reason, false);
  }

  /** A job of the batch settled (the scheduler calls it, once per job). */
  settled(job: Job, ok: boolean, value: unknown): void {
    if (!job.chunk) {
      this.#outcome(job.index, ok, value);
      return;
    }
    // Each input of a chunk: its outcome, or it runs again as a job of its own.
    const inputs = job.input as unknown[];
    const fates = value as Fates;
    const indices = job.indices as readonly number[];
    for (let k = 0; k < inputs.length; k++) {
      const index = indices[k] as number;
      const fate = ok ? fates[2 * k] : Fate.Failed;
      const result = ok ? fates[2 * k + 1] : value;
      if (fate === Fate.Ok || fate === Fate.Failed) this.#outcome(index, fate === Fate.Ok, result);
      else if (this.#cancelled !== undefined) this.#outcome(index, false, this.#cancelled);
      else this.#submit(inputs[k], index, job.key, result as number, undefined);
    }
  }

  #outcome(index: number, ok: boolean, value: unknown): void {
    this.#open--;
    try {
      this.#listener(index, ok, value);
    } catch (error) {
      // The caller's bug: surfaced as an event handler's would be, without leaving the
      // scheduler's settling of the job half done.
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  /** Sends a key's inputs as one chunk (or as one job, if there is only one). */
  #send(key: string | undefined, inputs: unknown[], indices: number[]): void {
    if (inputs.length === 1) {
      this.#submit(inputs[0], indices[0] as number, key, 0, undefined);
      return;
    }
    const { options } = this.#engine;
    this.#engine.submit(
      Job.chunk(this.#engine.nextId(), inputs, indices, this.#options, options, this, key),
    );
  }

  /** Submits one input as a job of its own, with `tries` already used. */
  #submit(
    input: unknown,
    index: number,
    key: string | undefined,
    tries: number,
    traceparent: string | undefined,
  ): void {
    const job = new Job(this.#engine.nextId(), input, this.#options, this.#engine.options, {
      index,
      owner: this,
      key,
      tries,
      traceparent,
    });
    this.#engine.submit(job);
  }
}

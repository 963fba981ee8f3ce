/**
 * The job observer hook: what a pool tells its listeners about every settled job (one
 * {@link JobRecord} per input, a chunk's inputs each on its own), and the list of
 * listeners. With no listener the scheduler skips it after one boolean test, so an
 * unobserved pool makes no record and reads no extra clock.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { ANSWER_STRIDE } from '../protocol/codec.js';
import { Fate, type Fates } from '../pool/chunk.js';

/** A settled job's error, as plain data (safe to keep, log or send). */
export interface JobRecordError {
  /** The error's string `code` (`ERR_JOB_TIMEOUT`, ...), or `''` when it has none. */
  code: string;
  /** The error's `name` (`'Error'` for a thrown value that is not an Error). */
  name: string;
  message: string;
}

/**
 * One settled job (or one input of a chunk), as {@link Pool.observe} reports it. Times are
 * `performance.now()` readings, in milliseconds.
 */
export interface JobRecord {
  /** The task it ran. */
  task: string;
  /** The `threadId` of the thread that last held it; -1 if it never reached a thread. */
  threadId: number;
  /**
   * When it entered the pool's queue (after its governor slot, with a governor); equal to
   * `settledAt` for a job refused at submission, or queued before the listener was added.
   */
  submittedAt: number;
  /** When it was last sent to a thread; undefined if it never was. */
  startedAt: number | undefined;
  settledAt: number;
  ok: boolean;
  /** Attempts started (a retried job counts each). */
  tries: number;
  /** Why it failed, when `ok` is false. */
  error?: JobRecordError;
}

/** Hears each settled job. */
export type JobListener = (record: JobRecord) => void;

/** What a record is made of: the facts of a settled job (src/pool/job.ts's Job). */
export interface SettledJob {
  readonly task: string;
  readonly chunk: boolean;
  readonly size: number;
  readonly tries: number;
  readonly queuedAt: number;
  readonly sentAt: number;
  readonly holder: object | undefined;
}

/** An error's string `code` as a job record gives it: `''` for one without (or a non-Error). */
export function errorCode(value: unknown): string {
  const code = value instanceof Error ? (value as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : '';
}

/** An error as {@link JobRecordError}. */
export function recordError(value: unknown): JobRecordError {
  if (value instanceof Error) {
    return { code: errorCode(value), name: value.name, message: value.message };
  }
  return { code: '', name: 'Error', message: String(value) };
}

/** The listeners of one pool. */
/** The pool's method for a {@link JobTallyListener} (internal: corral's metrics use it). */
export const observeTally: unique symbol = Symbol('corral.observeTally');

/**
 * A listener that counts rather than looks at each job (the pool's metrics): called once per
 * settled job, a chunk as its inputs, with the inputs that succeeded, the errors of those that
 * failed and the job's times (`performance.now()` readings; `startedAt` undefined when it
 * never reached a thread). No record is made per input, so a chunk of tiny inputs costs one call.
 */
export interface JobTallyListener {
  settled(
    task: string,
    ok: number,
    errors: readonly unknown[] | undefined,
    submittedAt: number,
    startedAt: number | undefined,
    settledAt: number,
  ): void;
}

export class JobObservers {
  /** Copied on change, so a listener that unsubscribes while called does not skip another. */
  #listeners: readonly JobListener[] = [];
  #tallies: readonly JobTallyListener[] = [];
  /** Whether anyone listens: the one test the hot path makes. */
  active = false;

  /** Adds a listener; returns its unsubscribe (idempotent). */
  add(listener: JobListener): () => void {
    this.#listeners = [...this.#listeners, listener];
    this.active = true;
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
      this.#update();
    };
  }

  /**
   * Reports a settled job: a chunk as one record per input that settled (inputs that run
   * again on their own are reported when they settle).
   */
  /** Adds a counting listener (see {@link JobTallyListener}); returns its removal. */
  addTally(listener: JobTallyListener): () => void {
    this.#tallies = [...this.#tallies, listener];
    this.active = true;
    return () => {
      this.#tallies = this.#tallies.filter((l) => l !== listener);
      this.#update();
    };
  }

  #update(): void {
    this.active = this.#listeners.length > 0 || this.#tallies.length > 0;
  }

  report(job: SettledJob, ok: boolean, value: unknown): void {
    const settledAt = performance.now();
    const threadId = (job.holder as { threadId?: number } | undefined)?.threadId ?? -1;
    const submittedAt = job.queuedAt > 0 ? job.queuedAt : settledAt;
    const startedAt = job.sentAt > 0 ? job.sentAt : undefined;
    if (this.#tallies.length > 0) this.#tally(job, ok, value, submittedAt, startedAt, settledAt);
    if (this.#listeners.length === 0) return;
    const base = { task: job.task, threadId, submittedAt, startedAt, settledAt, tries: job.tries };
    if (!job.chunk) {
      this.#emit(ok ? { ...base, ok } : { ...base, ok, error: recordError(value) });
      return;
    }
    if (!ok) {
      const error = recordError(value);
      for (let i = 0; i < job.size; i++) this.#emit({ ...base, ok, error });
      return;
    }
    const fates = value as Fates;
    for (let i = 0; i < fates.length; i += ANSWER_STRIDE) {
      const fate = fates[i];
      if (fate === Fate.Ok) this.#emit({ ...base, ok: true });
      else if (fate === Fate.Failed) {
        this.#emit({ ...base, ok: false, error: recordError(fates[i + 1]) });
      }
    }
  }

  #tally(
    job: SettledJob,
    ok: boolean,
    value: unknown,
    submittedAt: number,
    startedAt: number | undefined,
    settledAt: number,
  ): void {
    let okCount = 0;
    let errors: unknown[] | undefined;
    if (!job.chunk) {
      if (ok) okCount = 1;
      else errors = [value];
    } else if (!ok) {
      errors = new Array<unknown>(job.size).fill(value);
    } else {
      const fates = value as Fates;
      for (let i = 0; i < fates.length; i += ANSWER_STRIDE) {
        const fate = fates[i];
        if (fate === Fate.Ok) okCount++;
        else if (fate === Fate.Failed) (errors ??= []).push(fates[i + 1]);
      }
    }
    for (const t of this.#tallies) {
      try {
        t.settled(job.task, okCount, errors, submittedAt, startedAt, settledAt);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  #emit(record: JobRecord): void {
    for (const listener of this.#listeners) {
      try {
        listener(record);
      } catch (error) {
        // A throwing listener is the caller's bug: surface it as an event handler's would be,
        // without breaking the settling of the job.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

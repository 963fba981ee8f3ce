/**
 * Cluster-wide keyed targets: with the pool option `governor`, a keyed job first holds
 * a slot in its key's governor (e.g. the NATS one from `corral/nats`), then queues for
 * the local target and a thread, runs, and frees the slot once it has left its thread.
 * A slot lost while the job waits or runs aborts the job.
 */
import { PoolClosedError } from '../util/errors.js';
import { onAbort } from '../util/abort.js';
import { holderName } from '../util/holder-name.js';
import type { GovernorFor, Slot } from './governor.js';
import type { Job } from '../pool/job.js';

export type { GovernorFor };

export class GovernorGate {
  readonly #governorFor: GovernorFor;
  /** Aborted on forced shutdown: campaigns under way give up. */
  readonly #closing = new AbortController();
  /** How this process appears in governors' entries. */
  readonly #name = holderName();
  /** Jobs waiting for a slot, with what stops their campaign. */
  readonly #waiting = new Map<Job, AbortController>();
  /** Jobs holding a slot. */
  readonly #slots = new Map<Job, Slot>();

  /** How many jobs wait for a slot. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Calls `fn` on each job waiting for a slot (a stream cancelling its jobs). */
  forEachWaiting(fn: (job: Job) => void): void {
    for (const job of this.#waiting.keys()) fn(job);
  }

  /** The job was settled while it waited (aborted): its campaign stops. */
  withdraw(job: Job): void {
    this.#waiting.get(job)?.abort();
  }

  constructor(governorFor: GovernorFor) {
    this.#governorFor = governorFor;
  }

  /**
   * Whether the job must wait for a governor slot first. If so, `admit` is called with
   * the job holding its slot, or `fail` with why it could not get one.
   */
  gate(
    job: Job,
    admit: () => void,
    fail: (error: unknown) => void,
    lost: (reason: unknown) => void,
  ): boolean {
    if (job.key === undefined) return false;
    const governor = this.#governorFor(job.key);
    if (governor === undefined) return false;
    const own = new AbortController();
    this.#waiting.set(job, own);
    const signals = [own.signal, this.#closing.signal];
    if (job.signal !== undefined) signals.push(job.signal);
    const signal = AbortSignal.any(signals);
    governor.start({ name: this.#name, signal }).then(
      (slot: Slot) => {
        this.#waiting.delete(job);
        if (job.settled) {
          void slot.finish().catch(() => undefined);
          fail(undefined);
          return;
        }
        this.#slots.set(job, slot);
        admit();
        // After admit: a slot lost already is then lost by a queued job, like any later loss.
        // The listener lives as long as the slot, so it needs no removing.
        onAbort(slot.signal, lost);
      },
      (error: unknown) => {
        this.#waiting.delete(job);
        fail(this.#closing.signal.aborted ? new PoolClosedError() : error);
      },
    );
    return true;
  }

  /** Frees the job's slot (idempotent). Call once the job is settled and off its thread. */
  release(job: Job): void {
    const slot = this.#slots.get(job);
    if (slot === undefined) return;
    this.#slots.delete(job);
    // A slot that cannot be given back expires by the governor's maxAge.
    void slot.finish().catch(() => undefined);
  }

  /** Whether the job holds a slot. */
  holds(job: Job): boolean {
    return this.#slots.has(job);
  }

  /** Forced shutdown: campaigns under way stop. */
  close(): void {
    this.#closing.abort(new PoolClosedError());
  }
}

/**
 * The errors of the NATS governor: its campaigns, its slots and its manager.
 *
 * @module
 */
import { AbortError, CorralError } from '../../util/errors.js';

/**
 * The governor does not exist: its stream `GOVERNOR_<name>` is missing.
 * Raw JetStream would say 'jetstream is not enabled' (no one answers the campaign subject).
 */
export class UnknownGovernorError extends CorralError {
  /** The governor's name. */
  readonly governor: string;

  constructor(governor: string, options?: ErrorOptions) {
    super('ERR_UNKNOWN_GOVERNOR', `unknown governor '${governor}'`, options);
    this.governor = governor;
  }
}

/**
 * `create()` found a governor of that name with another configuration and was not asked to
 * update it, or found a stream of that name that is not a governor.
 */
export class GovernorExistsError extends CorralError {
  constructor(governor: string, existing: string, updatable = true) {
    const hint = updatable ? '; pass { update: true } (CLI: --update) to change it' : '';
    super('ERR_GOVERNOR_EXISTS', `governor '${governor}' already exists with ${existing}${hint}`);
  }
}

/**
 * Lowering the limit below the number of slots held was refused. JetStream would delete the
 * oldest entries to fit (nats-server issue #2589), so their holders would run on without a
 * slot and more work than the limit would run at once.
 */
export class GovernorLimitBelowActiveError extends CorralError {
  /** The limit asked for. */
  readonly limit: number;
  /** The slots held when the change was refused. */
  readonly active: number;

  constructor(governor: string, limit: number, active: number) {
    super(
      'ERR_GOVERNOR_LIMIT_BELOW_ACTIVE',
      `refusing to lower the limit of governor '${governor}' to ${limit}: ${active} slots are held, ` +
        `and JetStream would evict the oldest holders; wait for them to finish, or force it ` +
        `({ force: true }, CLI: --force) and their holders are told they lost their slot`,
    );
    this.limit = limit;
    this.active = active;
  }
}

/**
 * A slot's entry is gone: evicted, reset, trimmed by a forced limit change, or expired
 * because it could not be refreshed within `maxAge`. Whoever held it no longer counts
 * against the limit, so its work should stop.
 */
export class GovernorSlotLostError extends CorralError {
  /** The sequence of the entry that was lost. */
  readonly seq: number;

  constructor(governor: string, seq: number, why: string, options?: ErrorOptions) {
    super('ERR_GOVERNOR_SLOT_LOST', `lost slot ${seq} of governor '${governor}': ${why}`, options);
    this.seq = seq;
  }
}

/** `evict(seq)` named an entry that is not in the governor (already finished, expired or evicted). */
export class GovernorEntryNotFoundError extends CorralError {
  constructor(governor: string, seq: number) {
    super('ERR_GOVERNOR_ENTRY_NOT_FOUND', `governor '${governor}' has no entry ${seq}`);
  }
}

/**
 * A campaign for a slot was given up because its `signal` aborted. Like every abort in
 * corral it has code `ABORT_ERR`, name `'AbortError'`, and the signal's reason as `cause`.
 */
export class CampaignAbortedError extends AbortError {
  constructor(governor: string, reason: unknown) {
    super(reason);
    this.message = `the campaign for a slot of governor '${governor}' was aborted`;
  }
}

import { DuplicateOpIdError, GroupClosedError, GroupCompleteError } from './errors.js';
import { InternalError } from '../util/errors.js';

/** How one op ended: `ok: true` with its `result`, or `ok: false` with its `error`. */
export type CallOutcome<Msg, Result, Id = string | number> =
  | { readonly ok: true; readonly op: Op<Msg, Result, Id>; readonly result: Result }
  | { readonly ok: false; readonly op: Op<Msg, Result, Id>; readonly error: unknown };

/** Every op's outcome, keyed by id, in the order the ops were added. */
export type CallResults<Msg, Result, Id = string | number> = Map<Id, CallOutcome<Msg, Result, Id>>;

/** Options for {@link CallGroup}. */
export interface CallGroupOptions {
  /**
   * Complete only after `close()`, even when every op added so far has finished.
   * Use it when ops are added across `await`s, where an early op could finish
   * before the next one is added and complete the group too soon.
   * @default false
   */
  readonly waitForClose?: boolean;
}

/** Lifecycle: `'open'` takes ops, `'closed'` waits for outstanding ones, `'complete'` is final. */
export type CallGroupState = 'open' | 'closed' | 'complete';

/**
 * One call in a {@link CallGroup}. Finish it exactly once with {@link Op.finish}.
 *
 * @example
 * ```ts
 * const op = group.add('a', request);
 * fetchThing(op.msg).then((r) => op.finish(null, r), (e: unknown) => op.finish(e));
 * ```
 */
export class Op<Msg, Result, Id = string | number> {
  /** The id the op was added under. */
  readonly id: Id;
  /** The message the op was added with. */
  readonly msg: Msg;
  /** The group's callback, or `undefined` once this op has finished. */
  #onFinish: ((outcome: CallOutcome<Msg, Result, Id>) => void) | undefined;

  /** @internal Created by {@link CallGroup.add}. */
  constructor(id: Id, msg: Msg, onFinish: (outcome: CallOutcome<Msg, Result, Id>) => void) {
    this.id = id;
    this.msg = msg;
    this.#onFinish = onFinish;
  }

  /** Whether {@link Op.finish} has been called. */
  get finished(): boolean {
    return this.#onFinish === undefined;
  }

  /**
   * Records the op's outcome, Node-callback style: a non-nullish `error` marks a failure,
   * otherwise `result` is the result. **The first finish wins**: a later call is ignored
   * and returns `false`, so a timeout racing a reply cannot overwrite or double-count.
   * If this is the group's last outstanding op, the group completes inside this call
   * (and an exception thrown by `onComplete` propagates out of it).
   *
   * @example
   * ```ts
   * op.finish(null, 42); // true
   * op.finish(new Error('late')); // false: ignored
   * ```
   */
  finish(error: unknown, result?: Result): boolean {
    const onFinish = this.#onFinish;
    if (onFinish === undefined) return false;
    this.#onFinish = undefined;
    onFinish(
      error === null || error === undefined
        ? { ok: true, op: this, result: result as Result }
        : { ok: false, op: this, error },
    );
    return true;
  }
}

/**
 * Tracks a group of in-flight calls and reports once, when all of them have finished
 * (after Go's `lytics/inflight` CallGroup).
 *
 * **When the group completes.** Every added op has finished, and either
 * - `close()` was called (a group with no ops completes at `close()`), or
 * - at least one op was added, the outstanding count dropped to zero, and the group
 *   was not created with `waitForClose: true`.
 *
 * Completion happens exactly once, synchronously inside the `finish()` or `close()`
 * call that caused it: `onComplete` runs, then {@link CallGroup.done} resolves with the
 * same Map. Afterwards `add()` throws `ERR_GROUP_COMPLETE`; between `close()` and
 * completion it throws `ERR_GROUP_CLOSED`.
 *
 * @example
 * ```ts
 * const group = new CallGroup<string, number>((results) => console.log(results.size));
 * for (const [id, url] of urls) {
 *   const op = group.add(id, url);
 *   fetchLength(url).then((n) => op.finish(null, n), (e: unknown) => op.finish(e));
 * }
 * const results = await group.done;
 * ```
 */
export class CallGroup<Msg, Result, Id = string | number> {
  /** Promise form of `onComplete`: resolves once, with every op's outcome. */
  readonly done: Promise<CallResults<Msg, Result, Id>>;
  /** Called once at completion; `undefined` when only {@link CallGroup.done} is used. */
  readonly #onComplete: ((results: CallResults<Msg, Result, Id>) => void) | undefined;
  /** Resolves {@link CallGroup.done}. */
  readonly #resolveDone: (results: CallResults<Msg, Result, Id>) => void;
  /** Whether completion must wait for `close()` even when nothing is outstanding. */
  readonly #waitForClose: boolean;
  /** Outcome of each op by id, in add order; `undefined` while the op is in flight. */
  readonly #outcomes = new Map<Id, CallOutcome<Msg, Result, Id> | undefined>();
  /** Ops added but not yet finished. */
  #outstanding = 0;
  /** Where the group is in its lifecycle. */
  #state: CallGroupState = 'open';

  /**
   * @param onComplete called once with every op's outcome when the group completes.
   * @example
   * ```ts
   * const group = new CallGroup<Job, Output>(undefined, { waitForClose: true });
   * ```
   */
  constructor(
    onComplete?: (results: CallResults<Msg, Result, Id>) => void,
    options: CallGroupOptions = {},
  ) {
    this.#onComplete = onComplete;
    this.#waitForClose = options.waitForClose ?? false;
    let resolveDone!: (results: CallResults<Msg, Result, Id>) => void;
    this.done = new Promise((resolve) => (resolveDone = resolve));
    this.#resolveDone = resolveDone;
  }

  /** `'open'`, `'closed'` (no more adds, ops outstanding) or `'complete'`. */
  get state(): CallGroupState {
    return this.#state;
  }

  /** Number of ops added and not yet finished. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /**
   * Adds an in-flight call and returns the {@link Op} to finish when it ends.
   *
   * @throws {GroupCompleteError} `ERR_GROUP_COMPLETE` when the group has completed.
   * @throws {GroupClosedError} `ERR_GROUP_CLOSED` after `close()`.
   * @throws {DuplicateOpIdError} `ERR_GROUP_DUPLICATE_ID` when `id` was added before.
   * @example
   * ```ts
   * const op = group.add(7, { path: '/x' });
   * ```
   */
  add(id: Id, msg: Msg): Op<Msg, Result, Id> {
    if (this.#state === 'complete') throw new GroupCompleteError(id);
    if (this.#state === 'closed') throw new GroupClosedError(id);
    if (this.#outcomes.has(id)) throw new DuplicateOpIdError(id);
    this.#outcomes.set(id, undefined);
    this.#outstanding += 1;
    return new Op<Msg, Result, Id>(id, msg, (outcome) => {
      this.#outcomes.set(id, outcome);
      this.#outstanding -= 1;
      this.#completeIfDone();
    });
  }

  /**
   * Says no more ops will be added. The group completes now if nothing is outstanding
   * (also when no op was ever added), otherwise when the last op finishes. Idempotent.
   *
   * @example
   * ```ts
   * for (const job of jobs) start(group.add(job.id, job));
   * group.close();
   * ```
   */
  close(): void {
    if (this.#state !== 'open') return;
    this.#state = 'closed';
    this.#completeIfDone();
  }

  #completeIfDone(): void {
    if (this.#outstanding > 0) return;
    if (this.#state === 'open' && (this.#waitForClose || this.#outcomes.size === 0)) return;
    this.#state = 'complete';
    const results: CallResults<Msg, Result, Id> = new Map();
    for (const [id, outcome] of this.#outcomes) {
      // Unreachable while #outstanding is 0; checked so a bug cannot hand out a hole.
      if (outcome === undefined) throw new InternalError(`op ${String(id)} has no outcome`);
      results.set(id, outcome);
    }
    // Resolve first so `done` settles even if the callback throws.
    this.#resolveDone(results);
    this.#onComplete?.(results);
  }
}

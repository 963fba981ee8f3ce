// @ts-check
/** The collected runs, the rows they make and how a target is judged on them. */
import { fmtTwo } from './format.js';

/** @typedef {import('./contestant.js').ContestantName} ContestantName */
/** @typedef {import('./plan.js').ScenarioId} ScenarioId */
/** @typedef {import('./scenarios.js').Metrics} Metrics */

/**
 * @typedef {{ ok: true, metrics: Metrics, elapsedMs: number }
 *   | { ok: false, error: string, elapsedMs: number }} RepResult
 */

/**
 * @typedef {object} RunRecord
 * @property {number} group
 * @property {ContestantName} pool
 * @property {ScenarioId} scenario
 * @property {number} threads
 * @property {RepResult[]} reps
 * @property {Metrics | undefined} median per metric, over the repetitions that succeeded
 * @property {number | undefined} spread (max - min) / median of the headline metric
 */

/**
 * @typedef {object} Target
 * @property {number} scenario
 * @property {string} name
 * @property {string} measured
 * @property {string} required
 * @property {'PASS' | 'MISS' | 'SKIP'} result SKIP: not run (filtered out by --only/--scenario)
 */

/** Lookups over the collected runs. */
export class Results {
  /** @type {readonly RunRecord[]} */
  #records;

  /** @param {readonly RunRecord[]} records */
  constructor(records) {
    this.#records = records;
  }

  /**
   * @param {ContestantName} pool
   * @param {ScenarioId} scenario
   * @param {number} [threads]
   * @returns {RunRecord | undefined}
   */
  find(pool, scenario, threads) {
    return this.#records.find(
      (r) =>
        r.pool === pool &&
        r.scenario === scenario &&
        (threads === undefined || r.threads === threads),
    );
  }

  /**
   * @param {ContestantName} pool
   * @param {ScenarioId} scenario
   * @param {string} metric
   * @param {number} [threads]
   * @returns {number | undefined}
   */
  get(pool, scenario, metric, threads) {
    return this.find(pool, scenario, threads)?.median?.[metric];
  }

  /**
   * @param {ScenarioId} scenario
   * @returns {RunRecord[]}
   */
  of(scenario) {
    return this.#records.filter((r) => r.scenario === scenario);
  }
}

/**
 * The first error of a run none of whose repetitions succeeded, for an error row.
 * @param {RunRecord} r
 * @returns {string | undefined}
 */
export function failure(r) {
  if (r.median !== undefined) return undefined;
  const rep = r.reps.find((x) => !x.ok);
  const message = rep?.error ?? 'no result';
  return message.length > 300 ? `${message.slice(0, 297)}...` : message;
}

/**
 * A row for a run: its cells, or its error in the first data column.
 * @param {RunRecord} r
 * @param {string} label
 * @param {(m: Metrics) => string[]} cells
 * @param {number} width data columns after the label
 * @returns {string[]}
 */
export function row(r, label, cells, width) {
  const failed = r.reps.filter((x) => !x.ok).length;
  const name = failed > 0 && r.median !== undefined ? `${label} (${failed} failed)` : label;
  if (r.median === undefined) return [name, 'error', ...Array.from({ length: width }, () => '')];
  return [name, ...cells(r.median), fmtTwo(r.median.otherCores)];
}

/**
 * @typedef {(
 *   scenario: number,
 *   name: string,
 *   needs: { pool: ContestantName, scenario: ScenarioId }[],
 *   value: number | undefined,
 *   pass: (v: number) => boolean,
 *   show: (v: number) => string,
 *   required: string,
 * ) => void} AddTarget
 */

/**
 * A function that judges a target and appends it to `targets`: SKIP when a run it needs was not
 * asked for, else PASS or MISS on the value.
 * @param {Target[]} targets
 * @param {(pool: ContestantName, scenario: ScenarioId) => boolean} planned whether the run was asked for
 * @returns {AddTarget}
 */
export function targetAdder(targets, planned) {
  return (scenario, name, needs, value, pass, show, required) => {
    const skipped = needs.some((n) => !planned(n.pool, n.scenario));
    targets.push({
      scenario,
      name,
      measured: value === undefined || Number.isNaN(value) ? 'no data' : show(value),
      required,
      result: skipped ? 'SKIP' : value !== undefined && pass(value) ? 'PASS' : 'MISS',
    });
  };
}

/**
 * @param {number | undefined} a
 * @param {number | undefined} b
 * @returns {number | undefined} a / b, or undefined if either is
 */
export function ratio(a, b) {
  return a === undefined || b === undefined ? undefined : a / b;
}

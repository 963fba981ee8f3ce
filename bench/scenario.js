// @ts-check
/**
 * One scenario against one contestant, in this fresh process, so that peak RSS belongs to it alone:
 *
 *   node bench/scenario.js <pool> <scenario> <threads> [--count N] [--iters N]
 *
 * Prints one JSON line: {"ok":true,"metrics":{...}} or {"ok":false,"error":"..."}.
 */
import { availableParallelism } from 'node:os';
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { parseArgs } from 'node:util';
import { calibrateCpu } from './lib/calibrate.js';
import { createContestant, isContestantName } from './lib/contestant.js';
import { withOtherLoad } from './lib/machine.js';
import { COUNTS, isScenarioId } from './lib/plan.js';
import { scenarios, warmUp } from './lib/scenarios.js';

/** @typedef {import('./lib/scenarios.js').Metrics} Metrics */
/** @typedef {{ ok: true, metrics: Metrics } | { ok: false, error: string }} ScenarioResult */

/** How long closing a pool may take before the process exits anyway. */
const CLOSE_TIMEOUT_MS = 5000;

/** Set once the result line is out. */
let reported = false;

/** @param {ScenarioResult} result */
function report(result) {
  if (reported) return;
  reported = true;
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** @param {unknown} error */
function fail(error) {
  // An error after the result line (while closing) does not change the result.
  const after = reported;
  report({ ok: false, error: error instanceof Error ? error.message : String(error) });
  process.exit(after ? 0 : 1);
}

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

/**
 * @param {string | undefined} value
 * @param {string} name
 * @returns {number | undefined}
 */
function positiveInt(value, name) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, got ${value}`);
  return n;
}

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { count: { type: 'string' }, iters: { type: 'string' } },
  });
  const [pool = '', scenario = '', threadsArg = '2'] = positionals;
  if (!isContestantName(pool)) throw new Error(`unknown pool: ${pool}`);
  if (!isScenarioId(scenario)) throw new Error(`unknown scenario: ${scenario}`);
  const threads = positiveInt(threadsArg, 'threads') ?? 2;
  const count = positiveInt(values.count, '--count') ?? COUNTS.full[scenario];
  const iters = positiveInt(values.iters, '--iters') ?? calibrateCpu().iters;

  const baseRssMiB = process.resourceUsage().maxRSS / 1024;
  const contestant = await createContestant(pool, threads);
  await warmUp(contestant, scenario, iters, count);
  const { value: metrics, otherCores } = await withOtherLoad(
    () => scenarios[scenario](contestant, { count, iters, cores: availableParallelism() }),
    contestant.pids?.() ?? [],
  );
  metrics.otherCores = otherCores;
  metrics.rssMiB = process.resourceUsage().maxRSS / 1024;
  metrics.baseRssMiB = baseRssMiB;
  report({ ok: true, metrics });
  // Closing is not measured, and some pools never settle it after a large burst (poolifier 5.3.2
  // after 20,000 tasks): the result is out, so give it a moment and leave.
  setTimeout(() => process.exit(0), CLOSE_TIMEOUT_MS).unref();
  await contestant.close().catch(() => undefined);
  process.exit(0);
}

// The event loop emptying before a result means a task promise will never settle.
process.on('beforeExit', () => {
  if (reported) process.exit(0);
  fail(new Error('the event loop emptied before the scenario finished (a task never settled)'));
});

main().catch(fail);

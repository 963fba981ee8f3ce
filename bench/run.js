// @ts-check
/**
 * `npm run bench`: corral against piscina, poolifier, tinypool, workerpool, a bare MessagePort
 * floor and an inline ceiling, every (contestant, scenario) in a fresh child process.
 *
 *   node bench/run.js [--quick] [--only corral,piscina] [--scenario 1,3] [--reps N] [--out FILE]
 *
 * Prints a markdown report to stdout (progress goes to stderr) and writes bench/results.json.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, URL } from 'node:url';
import { parseArgs } from 'node:util';
import { writeCharts } from './charts.js';
import { calibrateCpu } from './lib/calibrate.js';
import { CONTESTANTS, isContestantName } from './lib/contestant.js';
import { describeMachine, otherLoad } from './lib/machine.js';
import { COUNTS, GROUPS, isScenarioId, PAYLOAD_WINDOW } from './lib/plan.js';
import { fmtInt, fmtOne } from './lib/format.js';
import { evaluateTargets, HEADLINE, renderBody } from './lib/report.js';
import { Results } from './lib/results.js';
import { median, spread } from './lib/stats.js';

/** @typedef {import('./lib/contestant.js').ContestantName} ContestantName */
/** @typedef {import('./lib/plan.js').ScenarioId} ScenarioId */
/** @typedef {import('./lib/results.js').RepResult} RepResult */
/** @typedef {import('./lib/results.js').RunRecord} RunRecord */
/** @typedef {import('./lib/scenarios.js').Metrics} Metrics */
/** @typedef {{ group: number, pool: ContestantName, scenario: ScenarioId, threads: number }} PlannedRun */

const USAGE = `usage: node bench/run.js [options]
  --quick              1 repetition and about 1/10 of the tasks (smoke test, \`corral bench\`)
  --only <pools>       comma-separated: ${CONTESTANTS.join(', ')}
  --scenario <list>    comma-separated scenario numbers (1-8) or ids (tiny-burst, latency, ...)
  --reps <n>           repetitions per run (default 3, 1 with --quick)
  --out <file>         where to write the JSON results (default bench/results.json)`;

/** Other processes keeping more cores than this busy make the figures unreliable. */
const BUSY_WARNING = 0.25;

/** Attempts at a run that other processes disturbed, the first included. */
const MAX_ATTEMPTS = 3;

/** Runs longer than this are not tried again. */
const MAX_RETRY_RUN_MS = 10_000;

/** Pause before trying a disturbed run again, to let a short burst elsewhere pass. */
const RETRY_PAUSE_MS = 2000;

/**
 * Cores other processes kept busy during a run (0 for a failed run: nothing to retry for).
 * @param {RepResult} r
 * @returns {number}
 */
function busyElsewhere(r) {
  return r.ok ? (r.metrics.otherCores ?? 0) : 0;
}

const scenarioScript = fileURLToPath(new URL('./scenario.js', import.meta.url));

/**
 * @param {string[]} argv
 */
function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      scenario: { type: 'string' },
      reps: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  /** @param {string | undefined} s */
  const list = (s) =>
    s === undefined
      ? undefined
      : s
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x !== '');

  const only = list(values.only);
  for (const name of only ?? []) {
    if (!isContestantName(name)) {
      throw new Error(`--only: unknown pool "${name}"; expected some of ${CONTESTANTS.join(', ')}`);
    }
  }
  /** @type {Set<string> | undefined} */
  const scenarioFilter = values.scenario === undefined ? undefined : new Set();
  for (const s of list(values.scenario) ?? []) {
    if (!isScenarioId(s) && !GROUPS.some((g) => String(g.id) === s)) {
      throw new Error(`--scenario: unknown scenario "${s}"; expected 1-8 or a scenario id`);
    }
    scenarioFilter?.add(s);
  }
  const mode = values.quick ? /** @type {const} */ ('quick') : /** @type {const} */ ('full');
  const reps = values.reps === undefined ? (values.quick ? 1 : 3) : Number(values.reps);
  if (!Number.isSafeInteger(reps) || reps < 1) {
    throw new Error(`--reps must be a positive integer, got ${String(values.reps)}`);
  }
  const out = values.out ?? fileURLToPath(new URL('./results.json', import.meta.url));
  return { mode, reps, out, only: only === undefined ? undefined : new Set(only), scenarioFilter };
}

/**
 * @param {ReturnType<typeof parseOptions>} options
 * @returns {PlannedRun[]}
 */
function plan({ only, scenarioFilter }) {
  /** @type {PlannedRun[]} */
  const runs = [];
  for (const g of GROUPS) {
    for (const spec of g.runs) {
      const wanted =
        scenarioFilter === undefined ||
        scenarioFilter.has(String(g.id)) ||
        scenarioFilter.has(spec.scenario);
      if (!wanted) continue;
      for (const threads of spec.threads) {
        for (const pool of spec.pools) {
          if (only !== undefined && !only.has(pool)) continue;
          runs.push({ group: g.id, pool, scenario: spec.scenario, threads });
        }
      }
    }
  }
  return runs;
}

/**
 * Reads a child's result line; undefined when it is not one.
 * @param {string} line
 * @returns {{ ok: true, metrics: Metrics } | { ok: false, error: string } | undefined}
 */
function parseResult(line) {
  /** @type {unknown} */
  let v;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || !('ok' in v)) return undefined;
  if (v.ok === true && 'metrics' in v && typeof v.metrics === 'object' && v.metrics !== null) {
    return { ok: true, metrics: /** @type {Metrics} */ (v.metrics) };
  }
  if (v.ok === false && 'error' in v && typeof v.error === 'string') {
    return { ok: false, error: v.error };
  }
  return undefined;
}

/**
 * Runs one scenario in a fresh child process and reads its JSON line.
 * @param {PlannedRun} run
 * @param {string[]} extraArgs
 * @param {number} timeoutMs
 * @returns {Promise<RepResult>}
 */
function runChild(run, extraArgs, timeoutMs) {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [scenarioScript, run.pool, run.scenario, String(run.threads), ...extraArgs],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (/** @type {string} */ d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (/** @type {string} */ d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const elapsedMs = performance.now() - started;
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      const parsed = line === undefined ? undefined : parseResult(line);
      if (parsed !== undefined) {
        resolve({ ...parsed, elapsedMs });
        return;
      }
      const why = timedOut
        ? `timed out after ${fmtInt(timeoutMs / 1000)} s`
        : `exited with ${signal ?? `code ${String(code)}`} and no result`;
      const tail = stderr.trim().split('\n').slice(-3).join(' / ');
      resolve({ ok: false, error: tail === '' ? why : `${why}: ${tail}`, elapsedMs });
    });
  });
}

/**
 * Medians of every metric over the repetitions that succeeded.
 * @param {PlannedRun} run
 * @param {RepResult[]} reps
 * @returns {RunRecord}
 */
function aggregate(run, reps) {
  /** @type {Metrics[]} */
  const ok = reps.flatMap((r) => (r.ok ? [r.metrics] : []));
  if (ok.length === 0) return { ...run, reps, median: undefined, spread: undefined };
  /** @type {Metrics} */
  const med = {};
  for (const key of Object.keys(ok[0] ?? {})) {
    med[key] = median(ok.map((m) => m[key] ?? NaN));
  }
  const headline = HEADLINE[run.scenario];
  const values = ok.map((m) => m[headline] ?? NaN);
  return { ...run, reps, median: med, spread: values.length < 2 ? undefined : spread(values) };
}

/**
 * @param {RepResult} r
 * @param {ScenarioId} scenario
 * @returns {string}
 */
function summary(r, scenario) {
  if (!r.ok) return `ERROR ${r.error}`;
  const other = r.metrics.otherCores ?? 0;
  const busy = other > BUSY_WARNING ? ` [other processes: ${other.toFixed(2)} cores]` : '';
  return headline(r.metrics, scenario) + busy;
}

/**
 * @param {Metrics} m
 * @param {ScenarioId} scenario
 * @returns {string}
 */
function headline(m, scenario) {
  const v = m[HEADLINE[scenario]];
  switch (HEADLINE[scenario]) {
    case 'tasksPerSec':
      return `${fmtInt(v)} tasks/s, ${fmtInt(m.rssMiB)} MiB`;
    case 'p50Us':
      return `p50 ${fmtOne(v)} µs, p99 ${fmtOne(m.p99Us)} µs`;
    case 'efficiency':
      return `efficiency ${(v ?? NaN).toFixed(3)}, ${fmtOne(m.wallMs)} ms`;
    case 'vsIdeal':
      return `${(v ?? NaN).toFixed(2)}x ideal, ${fmtOne(m.wallMs)} ms`;
    default:
      return `${fmtInt(v)} MB/s`;
  }
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const machine = describeMachine();
  const busyBefore = await otherLoad();
  const header = [
    '# corral bench',
    '',
    `- machine: ${machine.cpu}, ${machine.cores} cores, ${fmtOne(machine.memoryGiB)} GiB memory, ${machine.os}`,
    `- node ${machine.node} (V8 ${machine.v8})`,
    `- date: ${machine.date}, corral commit ${machine.commit}`,
    `- mode: ${options.mode}${options.mode === 'quick' ? ' (about 1/10 of the tasks: the targets are indicative only)' : ''}, ${options.reps} repetition(s), threads 2 unless stated, payload window ${PAYLOAD_WINDOW}`,
    `- other load before the run: ${busyBefore.toFixed(2)} cores busy${busyBefore > BUSY_WARNING ? ' — WARNING: another process is using the CPU; figures will be low and noisy' : ''}`,
  ];
  process.stdout.write(`${header.join('\n')}\n`);

  const calibration = calibrateCpu();
  process.stdout.write(
    `- CPU task: ${fmtInt(calibration.iters)} chunks, ${calibration.perTaskMs.toFixed(2)} ms inline (calibrated in this process)\n\n`,
  );

  const runs = plan(options);
  if (runs.length === 0)
    throw new Error('nothing to run: --only and --scenario exclude everything');
  const counts = COUNTS[options.mode];
  const timeoutMs = options.mode === 'quick' ? 120_000 : 300_000;
  /** @type {RepResult[][]} */
  const reps = runs.map(() => []);
  const total = runs.length * options.reps;
  const width = String(total).length;
  let n = 0;
  const t0 = performance.now();
  const retryBudgetMs = options.mode === 'quick' ? 10_000 : 60_000;
  let retryMs = 0;
  let retries = 0;
  // Repetitions are interleaved (all runs once, then again) so that drift in the machine spreads
  // over every contestant instead of landing on one.
  for (let rep = 0; rep < options.reps; rep++) {
    for (const [i, run] of runs.entries()) {
      n++;
      const args = ['--count', String(counts[run.scenario]), '--iters', String(calibration.iters)];
      const label = `[${String(n).padStart(width)}/${total}] ${run.pool.padEnd(10)} ${run.scenario.padEnd(16)} t=${run.threads}`;
      let result = await runChild(run, args, timeoutMs);
      process.stderr.write(
        `${label}  ${summary(result, run.scenario)}  (${(result.elapsedMs / 1000).toFixed(1)} s)\n`,
      );
      // A run that other processes disturbed is tried again, within a bounded time, and the least
      // disturbed attempt kept: on a shared 2-core machine one busy neighbour halves the figures.
      for (
        let attempt = 2;
        attempt <= MAX_ATTEMPTS && busyElsewhere(result) > BUSY_WARNING;
        attempt++
      ) {
        // Long runs (the slow peers' bursts) would spend the whole budget on one figure.
        if (result.elapsedMs > MAX_RETRY_RUN_MS || retryMs + result.elapsedMs > retryBudgetMs)
          break;
        const t = performance.now();
        await sleep(RETRY_PAUSE_MS);
        const again = await runChild(run, args, timeoutMs);
        retryMs += performance.now() - t;
        retries++;
        process.stderr.write(`${label}  retry ${attempt}: ${summary(again, run.scenario)}\n`);
        if (again.ok && busyElsewhere(again) < busyElsewhere(result)) result = again;
      }
      reps[i]?.push(result);
    }
  }
  const busyAfter = await otherLoad();

  const records = runs.map((run, i) => aggregate(run, reps[i] ?? []));
  const results = new Results(records);
  const targets = evaluateTargets(results, (pool, scenario) =>
    runs.some((r) => r.pool === pool && r.scenario === scenario),
  );
  process.stdout.write(
    `${renderBody({ results, targets, mode: options.mode, reps: options.reps })}\n`,
  );
  const others = records.flatMap((r) =>
    r.reps.flatMap((rep) => (rep.ok ? [rep.metrics.otherCores ?? 0] : [])),
  );
  const disturbed = others.filter((o) => o > BUSY_WARNING).length;
  if (disturbed > 0) {
    process.stdout.write(
      `\nWARNING: other processes kept more than ${BUSY_WARNING} cores busy during ${disturbed} of ` +
        `${others.length} runs (up to ${Math.max(...others).toFixed(2)} cores); those figures are low and noisy.\n`,
    );
  }
  const wallS = (performance.now() - t0) / 1000;
  process.stdout.write(
    `\nTotal ${fmtOne(wallS)} s, of which ${fmtOne(retryMs / 1000)} s in ${retries} retries of disturbed runs. Other load after the run: ${busyAfter.toFixed(2)} cores busy${busyAfter > BUSY_WARNING ? ' — WARNING' : ''}.\n`,
  );

  const json = {
    machine,
    otherLoad: { before: busyBefore, after: busyAfter },
    retries,
    mode: options.mode,
    reps: options.reps,
    counts,
    payloadWindow: PAYLOAD_WINDOW,
    calibration,
    runs: records,
    targets,
  };
  await writeFile(options.out, `${JSON.stringify(json, null, 2)}\n`);
  process.stderr.write(`results written to ${options.out}\n`);
  // The charts in docs/ show the full run only: a quick or filtered one (the CLI's test runs
  // one) would replace them with partial figures.
  if (
    options.mode === 'full' &&
    options.only === undefined &&
    options.scenarioFilter === undefined
  ) {
    const charts = await writeCharts(
      json,
      fileURLToPath(new URL('../docs/bench/', import.meta.url)),
    );
    process.stderr.write(`${charts.length} charts written to docs/bench/\n`);
  } else {
    process.stderr.write(
      `charts not written (docs/bench/ shows full runs only); to draw these: node bench/charts.js ${options.out} DIR\n`,
    );
  }
}

main().catch((/** @type {unknown} */ error) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

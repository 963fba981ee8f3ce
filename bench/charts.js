// @ts-check
/**
 * The bench as pictures: one SVG bar chart per scenario from bench/results.json, corral's
 * bars highlighted against the peers, the bare MessagePort floor (and the ideal, for
 * efficiencies) as reference lines, and the scenario's targets with their results as notes.
 * `bench/run.js` calls {@link writeCharts} after its report; by hand:
 * `node bench/charts.js [results.json] [out-dir]` (defaults: bench/results.json, docs/bench/).
 * Uses the chart writer of `corral bench MODULE` from the build (`npm run build` first).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { barChart } from '../dist/src/benchmark/svg.js';
import { GROUPS } from './lib/plan.js';
import { HEADLINE } from './lib/report.js';

/** @typedef {import('./lib/results.js').RunRecord} RunRecord */
/** @typedef {import('./lib/results.js').Target} Target */
/** @typedef {import('./lib/plan.js').ScenarioId} ScenarioId */

/** The shape of bench/results.json that the charts read. */
/** @typedef {{ runs: readonly RunRecord[], targets: readonly Target[] }} ResultsFile */

/** How each headline metric reads under its axis. */
/** @type {Record<string, string>} */
const UNITS = {
  tasksPerSec: 'tasks/s (higher is better)',
  p50Us: 'round trip p50, µs (lower is better)',
  efficiency: 'efficiency: tasks/s / (threads x inline rate), 1 = ideal',
  mbPerSec: 'MB/s (higher is better)',
};

/** The pools drawn as corral's own. */
const OURS = new Set(['corral', 'corral-process', 'corral-nats']);

/**
 * One chart per scenario that has figures.
 * @param {ResultsFile} results
 * @returns {{ scenario: ScenarioId, svg: string }[]}
 */
export function scenarioCharts(results) {
  /** @type {{ scenario: ScenarioId, svg: string }[]} */
  const charts = [];
  for (const group of GROUPS) {
    const scenarios = [...new Set(group.runs.map((r) => r.scenario))];
    for (const scenario of scenarios) {
      const metric = HEADLINE[scenario];
      const runs = results.runs.filter((r) => r.scenario === scenario && r.median !== undefined);
      if (runs.length === 0) continue;
      const threadCounts = new Set(runs.map((r) => r.threads));
      /** @param {RunRecord} r */
      const label = (r) =>
        threadCounts.size > 1
          ? `${r.pool} (${r.threads} thread${r.threads === 1 ? '' : 's'})`
          : r.pool;
      /** @param {RunRecord} r */
      const value = (r) => r.median?.[metric] ?? NaN;
      const bare = runs.find((r) => r.pool === 'bare');
      /** @type {{ label: string, value: number, color: string }[]} */
      const references = [];
      if (bare !== undefined) {
        references.push({
          label: 'bare MessagePort (the floor)',
          value: value(bare),
          color: '#2f9e44',
        });
      }
      if (metric === 'efficiency') references.push({ label: 'ideal', value: 1, color: '#868e96' });
      const notes = results.targets
        .filter((t) => t.scenario === group.id)
        .map((t) => `target ${t.result}: ${t.name}: ${t.measured} (required ${t.required})`);
      charts.push({
        scenario,
        svg: barChart({
          title: `${group.id}. ${scenario}: ${group.title}`,
          unit: UNITS[metric] ?? metric,
          bars: runs
            .filter((r) => r.pool !== 'bare')
            .map((r) => ({ label: label(r), value: value(r), highlight: OURS.has(r.pool) })),
          references,
          notes,
        }),
      });
    }
  }
  return charts;
}

/**
 * Writes `<scenario>.svg` for each scenario with figures into `dir`; returns the paths.
 * @param {ResultsFile} results
 * @param {string} dir
 * @returns {Promise<string[]>}
 */
export async function writeCharts(results, dir) {
  await mkdir(dir, { recursive: true });
  const written = [];
  for (const { scenario, svg } of scenarioCharts(results)) {
    const path = join(dir, `${scenario}.svg`);
    await writeFile(path, svg);
    written.push(path);
  }
  return written;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = process.argv[2] ?? fileURLToPath(new URL('./results.json', import.meta.url));
  const dir = process.argv[3] ?? fileURLToPath(new URL('../docs/bench/', import.meta.url));
  const parsed = /** @type {unknown} */ (JSON.parse(await readFile(input, 'utf8')));
  const results = /** @type {ResultsFile} */ (parsed);
  for (const path of await writeCharts(results, dir)) process.stdout.write(`${path}\n`);
}

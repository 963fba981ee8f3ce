// @ts-check
/**
 * Turns the collected runs into markdown: one table per scenario, then the targets with PASS/MISS.
 */
import { addQueueTargets, queueTables } from '../cluster/report.js';
import { fmtInt, fmtOne, fmtRatio, fmtSpread, fmtThree, fmtTwo, OTHER, table } from './format.js';
import { COUNTS, FINE_US, GROUPS } from './plan.js';
import { failure, ratio, row, targetAdder } from './results.js';

/** @typedef {import('./results.js').Results} Results */

/** @typedef {import('./contestant.js').ContestantName} ContestantName */
/** @typedef {import('./plan.js').ScenarioId} ScenarioId */
/** @typedef {import('./scenarios.js').Metrics} Metrics */
/** @typedef {import('./machine.js').Machine} Machine */

/** @typedef {import('./results.js').Target} Target */

/** The metric each scenario is judged by, for spreads and progress lines. */
/** @type {Record<ScenarioId, string>} */
export const HEADLINE = {
  'tiny-burst': 'tasksPerSec',
  'tiny-execute': 'tasksPerSec',
  'tiny-keyed': 'tasksPerSec',
  'tiny-wrap': 'tasksPerSec',
  'wrap-stream': 'tasksPerSec',
  latency: 'p50Us',
  cpu: 'efficiency',
  'payload-copy': 'mbPerSec',
  'payload-transfer': 'mbPerSec',
  'fine-20': 'efficiency',
  'fine-100': 'efficiency',
  'queue-tiny': 'tasksPerSec',
  'queue-cpu': 'efficiency',
  'queue-long': 'efficiency',
  'queue-mixed': 'vsIdeal',
};

/**
 * @param {Results} res
 * @param {'full' | 'quick'} mode
 * @returns {Map<number, string>} scenario number -> its markdown table
 */
function tables(res, mode) {
  const counts = COUNTS[mode];
  /** @type {Map<number, string>} */
  const tablesByScenario = new Map();
  const out = {
    /**
     * A scenario's table, followed by the errors of its runs that failed.
     * @param {number} scenario
     * @param {string} text
     */
    set(scenario, text) {
      const ids = GROUPS.find((g) => g.id === scenario)?.runs.map((r) => r.scenario) ?? [];
      const errors = ids.flatMap((id) =>
        res.of(id).flatMap((r) => {
          const why = failure(r);
          return why === undefined
            ? []
            : [`- error: ${r.pool} ${r.scenario} t=${r.threads}: ${why}`];
        }),
      );
      tablesByScenario.set(
        scenario,
        errors.length === 0 ? text : `${text}\n\n${[...new Set(errors)].join('\n')}`,
      );
    },
  };
  const piscinaRate = res.get('piscina', 'tiny-burst', 'tasksPerSec');

  const burst = res.of('tiny-burst');
  if (burst.length > 0) {
    out.set(
      1,
      table(
        ['contestant', 'tasks/s', 'x piscina', 'wall ms', 'peak RSS MiB', 'spread', OTHER],
        burst.map((r) =>
          row(
            r,
            r.pool,
            (m) => [
              fmtInt(m.tasksPerSec),
              fmtRatio(
                piscinaRate === undefined ? undefined : (m.tasksPerSec ?? NaN) / piscinaRate,
              ),
              fmtOne(m.wallMs),
              fmtInt(m.rssMiB),
              fmtSpread(r.spread),
            ],
            5,
          ),
        ),
      ),
    );
  }

  const streams = [...res.of('tiny-execute'), ...res.of('tiny-keyed'), ...res.of('tiny-wrap')];
  if (streams.length > 0) {
    /** @type {Record<string, string>} */
    const api = {
      'tiny-execute': 'execute',
      'tiny-keyed': 'execute, 16 keys',
      'tiny-wrap': 'wrap',
    };
    const rows = streams.map((r) =>
      row(
        r,
        `${r.pool} ${api[r.scenario] ?? r.scenario}`,
        (m) => [
          fmtInt(m.tasksPerSec),
          fmtRatio(piscinaRate === undefined ? undefined : (m.tasksPerSec ?? NaN) / piscinaRate),
          fmtInt(m.rssMiB),
        ],
        3,
      ),
    );
    for (const r of burst) {
      if (r.median === undefined) continue;
      rows.push(
        row(
          r,
          `${r.pool} single-task (scenario 1)`,
          (m) => [
            fmtInt(m.tasksPerSec),
            fmtRatio(piscinaRate === undefined ? undefined : (m.tasksPerSec ?? NaN) / piscinaRate),
            fmtInt(m.rssMiB),
          ],
          3,
        ),
      );
    }
    out.set(2, table(['contestant / API', 'tasks/s', 'x piscina', 'peak RSS MiB', OTHER], rows));
  }

  const latency = res.of('latency');
  if (latency.length > 0) {
    out.set(
      3,
      table(
        ['contestant', 'p50 µs', 'p99 µs', 'mean µs', 'spread (p50)', OTHER],
        latency.map((r) =>
          row(
            r,
            r.pool,
            (m) => [fmtOne(m.p50Us), fmtOne(m.p99Us), fmtOne(m.meanUs), fmtSpread(r.spread)],
            4,
          ),
        ),
      ),
    );
  }

  const cpu = res.of('cpu').toSorted((a, b) => a.threads - b.threads);
  if (cpu.length > 0) {
    out.set(
      4,
      table(
        [
          'contestant',
          'threads',
          'wall ms',
          'one-thread ms',
          'ideal ms',
          'efficiency',
          'spread',
          OTHER,
        ],
        cpu.map((r) =>
          row(
            r,
            r.pool,
            (m) => [
              String(r.threads),
              fmtOne(m.wallMs),
              fmtOne(m.oneThreadMs),
              fmtOne(m.idealMs),
              fmtThree(m.efficiency),
              fmtSpread(r.spread),
            ],
            6,
          ),
        ),
      ),
    );
  }

  const copy = res.of('payload-copy');
  const transfer = res.of('payload-transfer');
  if (copy.length > 0 || transfer.length > 0) {
    /** @type {ContestantName[]} */
    const pools = [...new Set([...copy, ...transfer].map((r) => r.pool))];
    const rows = [];
    for (const pool of pools) {
      for (const r of [res.find(pool, 'payload-copy'), res.find(pool, 'payload-transfer')]) {
        if (r === undefined) continue;
        const mode = r.scenario === 'payload-copy' ? 'copied' : 'transferred';
        rows.push(
          row(
            r,
            `${pool} ${mode}`,
            (m) => [fmtInt(m.mbPerSec), fmtOne(m.wallMs), fmtInt(m.rssMiB), fmtSpread(r.spread)],
            4,
          ),
        );
      }
    }
    out.set(
      5,
      table(['contestant / mode', 'MB/s', 'wall ms', 'peak RSS MiB', 'spread', OTHER], rows),
    );
  }

  const stream = res.of('wrap-stream');
  if (stream.length > 0) {
    out.set(
      6,
      table(
        ['contestant', 'items', 'tasks/s', 'peak RSS MiB', 'spread', OTHER],
        stream.map((r) =>
          row(
            r,
            `${r.pool} wrap`,
            (m) => [
              fmtInt(counts['wrap-stream']),
              fmtInt(m.tasksPerSec),
              fmtInt(m.rssMiB),
              fmtSpread(r.spread),
            ],
            4,
          ),
        ),
      ),
    );
  }
  const fine = [...res.of('fine-20'), ...res.of('fine-100')];
  if (fine.length > 0) {
    out.set(
      7,
      table(
        [
          'contestant',
          'task',
          'tasks',
          'tasks/s',
          'wall ms',
          'ideal ms',
          'efficiency',
          'spread',
          OTHER,
        ],
        fine.map((r) =>
          row(
            r,
            r.pool,
            (m) => [
              `${FINE_US[/** @type {'fine-20' | 'fine-100'} */ (r.scenario)]} µs`,
              fmtInt(counts[r.scenario]),
              fmtInt(m.tasksPerSec),
              fmtOne(m.wallMs),
              fmtOne(m.idealMs),
              fmtThree(m.efficiency),
              fmtSpread(r.spread),
            ],
            7,
          ),
        ),
      ),
    );
  }
  const queues = queueTables(res, counts);
  if (queues !== undefined) out.set(8, queues);
  return tablesByScenario;
}

/**
 * The fastest peer (not corral, bare or inline) in a scenario, by tasks/s.
 * @param {Results} res
 * @param {ScenarioId} scenario
 * @returns {number | undefined}
 */
function bestPeerRate(res, scenario) {
  const rates = res
    .of(scenario)
    .filter((r) => r.pool !== 'corral' && r.pool !== 'bare' && r.pool !== 'inline')
    .map((r) => r.median?.tasksPerSec)
    .filter((v) => v !== undefined);
  return rates.length === 0 ? undefined : Math.max(...rates);
}

/**
 * The targets, each judged on this run's figures.
 * @param {Results} res
 * @param {(pool: ContestantName, scenario: ScenarioId) => boolean} planned whether the run was asked for
 * @returns {Target[]}
 */
export function evaluateTargets(res, planned) {
  /** @type {Target[]} */
  const targets = [];
  const add = targetAdder(targets, planned);

  const c = /** @type {const} */ ({ pool: 'corral', scenario: 'tiny-burst' });
  add(
    1,
    'corral tasks/s vs piscina',
    [c, { pool: 'piscina', scenario: 'tiny-burst' }],
    ratio(
      res.get('corral', 'tiny-burst', 'tasksPerSec'),
      res.get('piscina', 'tiny-burst', 'tasksPerSec'),
    ),
    (v) => v >= 10,
    fmtRatio,
    '>= 10x',
  );
  add(
    1,
    'corral tasks/s vs poolifier',
    [c, { pool: 'poolifier', scenario: 'tiny-burst' }],
    ratio(
      res.get('corral', 'tiny-burst', 'tasksPerSec'),
      res.get('poolifier', 'tiny-burst', 'tasksPerSec'),
    ),
    (v) => v >= 5,
    fmtRatio,
    '>= 5x',
  );
  add(
    1,
    'corral peak RSS vs piscina',
    [c, { pool: 'piscina', scenario: 'tiny-burst' }],
    ratio(res.get('corral', 'tiny-burst', 'rssMiB'), res.get('piscina', 'tiny-burst', 'rssMiB')),
    (v) => v <= 0.5,
    fmtRatio,
    '<= 0.50x',
  );
  for (const [scenario, api] of /** @type {const} */ ([
    ['tiny-execute', 'execute'],
    ['tiny-wrap', 'wrap'],
  ])) {
    add(
      2,
      `corral ${api} tasks/s`,
      [{ pool: 'corral', scenario }],
      res.get('corral', scenario, 'tasksPerSec'),
      (v) => v >= 1_000_000,
      fmtInt,
      '>= 1,000,000',
    );
  }
  add(
    2,
    'corral keyed (16 keys) cost per job vs unkeyed',
    [
      { pool: 'corral', scenario: 'tiny-keyed' },
      { pool: 'corral', scenario: 'tiny-execute' },
    ],
    ratio(
      res.get('corral', 'tiny-execute', 'tasksPerSec'),
      res.get('corral', 'tiny-keyed', 'tasksPerSec'),
    ),
    (v) => v <= 1.1,
    fmtRatio,
    '<= 1.10x',
  );
  for (const [figure, max] of /** @type {const} */ ([
    ['p50', 0.5],
    ['p99', 0.8],
  ])) {
    const metric = /** @type {const} */ (`${figure}Us`);
    add(
      3,
      `corral ${figure} round trip vs piscina`,
      [
        { pool: 'corral', scenario: 'latency' },
        { pool: 'piscina', scenario: 'latency' },
      ],
      ratio(res.get('corral', 'latency', metric), res.get('piscina', 'latency', metric)),
      (v) => v <= max,
      fmtRatio,
      `<= ${max.toFixed(2)}x`,
    );
  }
  for (const [threads, min] of [
    [2, 0.98],
    [4, 0.97],
  ]) {
    add(
      4,
      `corral CPU efficiency, ${threads} threads`,
      [{ pool: 'corral', scenario: 'cpu' }],
      res.get('corral', 'cpu', 'efficiency', threads),
      (v) => v >= (min ?? 1),
      fmtThree,
      `>= ${fmtTwo(min)}`,
    );
  }
  add(
    5,
    'corral copied MB/s vs bare MessagePort',
    [
      { pool: 'corral', scenario: 'payload-copy' },
      { pool: 'bare', scenario: 'payload-copy' },
    ],
    ratio(
      res.get('corral', 'payload-copy', 'mbPerSec'),
      res.get('bare', 'payload-copy', 'mbPerSec'),
    ),
    (v) => v >= 1,
    fmtRatio,
    '>= 1.00x',
  );
  add(
    6,
    'corral wrap peak RSS (MiB)',
    [{ pool: 'corral', scenario: 'wrap-stream' }],
    res.get('corral', 'wrap-stream', 'rssMiB'),
    (v) => v <= 150,
    fmtInt,
    '<= 150',
  );
  // The targets are set for 20 µs tasks; the 100 µs row shows how the gap closes.
  for (const scenario of /** @type {const} */ (['fine-20'])) {
    const us = FINE_US[scenario];
    add(
      7,
      `corral efficiency, ${us} µs tasks`,
      [{ pool: 'corral', scenario }],
      res.get('corral', scenario, 'efficiency'),
      (v) => v >= 0.95,
      fmtThree,
      '>= 0.95',
    );
    add(
      7,
      `corral tasks/s vs the best peer, ${us} µs tasks`,
      [
        { pool: 'corral', scenario },
        { pool: 'piscina', scenario },
        { pool: 'poolifier', scenario },
      ],
      ratio(res.get('corral', scenario, 'tasksPerSec'), bestPeerRate(res, scenario)),
      (v) => v >= 2,
      fmtRatio,
      '>= 2.00x',
    );
  }
  addQueueTargets(res, add);
  return targets;
}

/**
 * @typedef {object} ReportInput
 * @property {Results} results
 * @property {Target[]} targets
 * @property {'full' | 'quick'} mode
 * @property {number} reps
 */

/**
 * Everything after the header: a section per scenario that ran, then the targets.
 * @param {ReportInput} input
 * @returns {string}
 */
export function renderBody({ results, targets, mode, reps }) {
  const counts = COUNTS[mode];
  const byScenario = tables(results, mode);
  /** @type {Record<number, string>} */
  const sizes = {
    1: fmtInt(counts['tiny-burst']),
    2: fmtInt(counts['tiny-execute']),
    3: fmtInt(counts.latency),
    4: fmtInt(counts.cpu),
    5: fmtInt(counts['payload-copy']),
    6: fmtInt(counts['wrap-stream']),
    7: '',
    8: '',
  };
  const parts = [];
  for (const g of GROUPS) {
    const t = byScenario.get(g.id);
    if (t === undefined) continue;
    parts.push(`## ${g.id}. ${sizes[g.id] ?? ''} ${g.title}\n\n${t}`);
  }
  parts.push(
    `## Targets\n\n${table(
      ['#', 'target', 'measured', 'required', 'result'],
      targets.map((t) => [String(t.scenario), t.name, t.measured, t.required, t.result]),
      2,
    )}`,
  );
  parts.push(
    `Figures are medians of ${reps} run${reps === 1 ? '' : 's'}, each in a fresh process; ` +
      'spread = (max - min) / median of the main figure; busy elsewhere = cores that other ' +
      'processes kept busy during the run (above 0.25 the figures are not trustworthy). ' +
      'MB = 10^6 bytes; RSS in MiB.',
  );
  return parts.join('\n\n');
}

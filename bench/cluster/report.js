// @ts-check
/**
 * Scenario 8 of the report: corral's work queue against BullMQ, each a client and two host (or
 * worker) processes, with the local pool on as many threads as the ceiling; and its targets.
 */
import { fmtInt, fmtOne, fmtRatio, fmtSpread, fmtThree, OTHER, table } from '../lib/format.js';
import { QUEUE_HOSTS, QUEUE_LONG_MS, QUEUE_MIXED_MS } from '../lib/plan.js';
import { ratio, row } from '../lib/results.js';

/** @typedef {import('../lib/results.js').Results} Results */
/** @typedef {import('../lib/results.js').RunRecord} RunRecord */
/** @typedef {import('../lib/results.js').AddTarget} AddTarget */
/** @typedef {import('../lib/plan.js').ScenarioId} ScenarioId */

/**
 * What each contestant of scenario 8 is, and the processes it runs in.
 * @param {RunRecord} r
 * @returns {[string, string]}
 */
function describe(r) {
  switch (r.pool) {
    case 'corral-nats':
      return [
        'corral RemotePool, NATS JetStream',
        `client + ${r.threads} hosts × 1 thread + nats-server`,
      ];
    case 'bullmq':
      return ['BullMQ, Redis', `client + ${r.threads} workers × concurrency 1 + redis-server`];
    case 'corral':
      return ['corral Pool (ceiling)', `1 process, ${r.threads} threads`];
    default:
      return [r.pool, `${r.threads} threads`];
  }
}

/** Columns of the CPU per job of each process, in ms (none for a contestant of one process). */
const CPU_HEADERS = ['client ms/job', 'server ms/job', 'hosts ms/job', 'host main ms/job'];

/**
 * @param {Record<string, number>} m
 * @returns {string[]}
 */
function cpuColumns(m) {
  const two = (/** @type {number | undefined} */ v) => (v === undefined ? '-' : v.toFixed(2));
  return [
    two(m.clientCpuMsPerJob),
    two(m.serverCpuMsPerJob),
    two(m.hostCpuMsPerJob),
    two(m.hostMainCpuMsPerJob),
  ];
}

/**
 * The tables of scenario 8, or undefined if none of its runs was asked for.
 * @param {Results} res
 * @param {Record<ScenarioId, number>} counts
 * @returns {string | undefined}
 */
export function queueTables(res, counts) {
  const parts = [];
  const tiny = res.of('queue-tiny');
  if (tiny.length > 0) {
    const bullmq = res.get('bullmq', 'queue-tiny', 'tasksPerSec');
    const ceiling = res.get('corral', 'queue-tiny', 'tasksPerSec');
    const rows = tiny.map((r) => {
      const [name, processes] = describe(r);
      return row(
        r,
        name,
        (m) => [
          processes,
          fmtInt(m.tasksPerSec),
          fmtRatio(ratio(m.tasksPerSec, bullmq)),
          fmtRatio(ratio(m.tasksPerSec, ceiling)),
          fmtOne(m.wallMs),
          fmtSpread(r.spread),
        ],
        6,
      );
    });
    parts.push(
      `${fmtInt(counts['queue-tiny'])} tiny jobs, submitted in one batch (corral: \`execute\`; BullMQ: \`addBulk\` of 1,000 and the \`completed\` events):\n\n` +
        table(
          [
            'contestant',
            'processes',
            'jobs/s',
            'x BullMQ',
            'x local Pool',
            'wall ms',
            'spread',
            OTHER,
          ],
          rows,
          2,
        ),
    );
  }
  for (const [scenario, title] of /** @type {const} */ ([
    ['queue-cpu', `${fmtInt(counts['queue-cpu'])} CPU jobs of about 5 ms`],
    ['queue-long', `${fmtInt(counts['queue-long'])} CPU jobs of about ${QUEUE_LONG_MS} ms`],
  ])) {
    const runs = res.of(scenario);
    if (runs.length === 0) continue;
    const ceiling = res.get('corral', scenario, 'efficiency');
    const rows = runs.map((r) => {
      const [name, processes] = describe(r);
      return row(
        r,
        name,
        (m) => [
          processes,
          fmtOne(m.wallMs),
          fmtOne(m.oneThreadMs),
          fmtOne(m.idealMs),
          fmtThree(m.efficiency),
          fmtRatio(ratio(m.efficiency, ceiling)),
          ...cpuColumns(m),
          fmtSpread(r.spread),
        ],
        11,
      );
    });
    parts.push(
      `${title}, in one batch; efficiency = one local thread's time / ${QUEUE_HOSTS} / wall time; CPU ms per job outside the task, per process (client, server, hosts or workers together, and their main threads alone, task included for BullMQ):\n\n` +
        table(
          [
            'contestant',
            'processes',
            'wall ms',
            'one-thread ms',
            'ideal ms',
            'efficiency',
            'x local Pool',
            ...CPU_HEADERS,
            'spread',
            OTHER,
          ],
          rows,
          2,
        ),
    );
  }
  const mixed = res.of('queue-mixed');
  if (mixed.length > 0) {
    const rows = mixed.map((r) => {
      const [name, processes] = describe(r);
      return row(
        r,
        name,
        (m) => [
          processes,
          fmtOne(m.wallMs),
          fmtOne(m.workMs),
          fmtOne(m.longestMs),
          fmtOne(m.idealMs),
          fmtRatio(m.vsIdeal),
          ...cpuColumns(m),
          fmtSpread(r.spread),
        ],
        11,
      );
    });
    parts.push(
      `${fmtInt(counts['queue-mixed'])} CPU jobs of ${QUEUE_MIXED_MS[0]}-${QUEUE_MIXED_MS[1]} ms (seeded), in one batch; ideal = the work / ${QUEUE_HOSTS} + the longest job:\n\n` +
        table(
          [
            'contestant',
            'processes',
            'wall ms',
            'work ms',
            'longest ms',
            'ideal ms',
            'x ideal',
            ...CPU_HEADERS,
            'spread',
            OTHER,
          ],
          rows,
          2,
        ),
    );
  }
  return parts.length === 0 ? undefined : parts.join('\n\n');
}

/**
 * Appends scenario 8's targets.
 * @param {Results} res
 * @param {AddTarget} add
 */
export function addQueueTargets(res, add) {
  add(
    8,
    'corral queue tiny jobs/s vs BullMQ',
    [
      { pool: 'corral-nats', scenario: 'queue-tiny' },
      { pool: 'bullmq', scenario: 'queue-tiny' },
    ],
    ratio(
      res.get('corral-nats', 'queue-tiny', 'tasksPerSec'),
      res.get('bullmq', 'queue-tiny', 'tasksPerSec'),
    ),
    (v) => v >= 10,
    fmtRatio,
    '>= 10.00x',
  );
  add(
    8,
    `corral queue CPU efficiency, ${QUEUE_HOSTS} hosts × 1 thread`,
    [{ pool: 'corral-nats', scenario: 'queue-cpu' }],
    res.get('corral-nats', 'queue-cpu', 'efficiency'),
    (v) => v >= 0.9,
    fmtThree,
    '>= 0.90',
  );
  add(
    8,
    `corral queue CPU efficiency vs BullMQ, ${QUEUE_HOSTS} hosts × 1 thread`,
    [
      { pool: 'corral-nats', scenario: 'queue-cpu' },
      { pool: 'bullmq', scenario: 'queue-cpu' },
    ],
    ratio(
      res.get('corral-nats', 'queue-cpu', 'efficiency'),
      res.get('bullmq', 'queue-cpu', 'efficiency'),
    ),
    (v) => v >= 1.3,
    fmtRatio,
    '>= 1.30x',
  );
  add(
    8,
    `corral queue efficiency, ${QUEUE_LONG_MS} ms jobs`,
    [{ pool: 'corral-nats', scenario: 'queue-long' }],
    res.get('corral-nats', 'queue-long', 'efficiency'),
    (v) => v >= 0.95,
    fmtThree,
    '>= 0.95',
  );
  add(
    8,
    `corral queue wall vs ideal, ${QUEUE_MIXED_MS[0]}-${QUEUE_MIXED_MS[1]} ms jobs`,
    [{ pool: 'corral-nats', scenario: 'queue-mixed' }],
    res.get('corral-nats', 'queue-mixed', 'vsIdeal'),
    (v) => v <= 1.15,
    fmtRatio,
    '<= 1.15x',
  );
}

// @ts-check
/**
 * The scenarios: what a child process runs (`ScenarioId`), how many tasks in the full and the
 * quick form, and how they group into the numbered scenarios of the report.
 */
import { LOCAL_CONTESTANTS } from './contestant.js';

/** @typedef {import('./contestant.js').ContestantName} ContestantName */

export const SCENARIO_IDS = /** @type {const} */ ([
  'tiny-burst',
  'tiny-execute',
  'tiny-keyed',
  'tiny-wrap',
  'latency',
  'cpu',
  'payload-copy',
  'payload-transfer',
  'wrap-stream',
  'fine-20',
  'fine-100',
  'queue-tiny',
  'queue-cpu',
  'queue-long',
  'queue-mixed',
]);

/** @typedef {(typeof SCENARIO_IDS)[number]} ScenarioId */

/**
 * @param {string} id
 * @returns {id is ScenarioId}
 */
export function isScenarioId(id) {
  return /** @type {readonly string[]} */ (SCENARIO_IDS).includes(id);
}

/** Task counts per scenario: `full` for `npm run bench`, `quick` for `--quick`. */
export const COUNTS = {
  full: {
    'tiny-burst': 200_000,
    'tiny-execute': 200_000,
    'tiny-keyed': 200_000,
    'tiny-wrap': 200_000,
    latency: 5_000,
    cpu: 400,
    'payload-copy': 20_000,
    'payload-transfer': 20_000,
    'wrap-stream': 2_000_000,
    'fine-20': 200_000,
    'fine-100': 50_000,
    'queue-tiny': 100_000,
    'queue-cpu': 400,
    'queue-long': 100,
    'queue-mixed': 2_000,
  },
  quick: {
    'tiny-burst': 20_000,
    'tiny-execute': 20_000,
    'tiny-keyed': 20_000,
    'tiny-wrap': 20_000,
    latency: 1_000,
    cpu: 40,
    'payload-copy': 2_000,
    'payload-transfer': 2_000,
    'wrap-stream': 200_000,
    'fine-20': 20_000,
    'fine-100': 5_000,
    'queue-tiny': 10_000,
    'queue-cpu': 40,
    'queue-long': 10,
    'queue-mixed': 200,
  },
};

/** Job sizes of the queue scenarios, in ms of one thread: queue-long's, and queue-mixed's range (seeded). */
export const QUEUE_LONG_MS = 50;
export const QUEUE_MIXED_MS = /** @type {const} */ ([1, 50]);
export const QUEUE_MIXED_SEED = 20;

/** Microseconds of CPU per task in the fine-grained scenarios. */
export const FINE_US = /** @type {const} */ ({ 'fine-20': 20, 'fine-100': 100 });

/** Payload tasks kept in flight at once: enough to keep every thread busy, few enough that memory
 * stays bounded, so MB/s measures the transport and not the allocator. */
export const PAYLOAD_WINDOW = 256;

/** Default thread count. */
export const THREADS = 2;

/** @typedef {{ scenario: ScenarioId, pools: readonly ContestantName[], threads: readonly number[] }} RunSpec */
/** @typedef {{ id: number, title: string, runs: readonly RunSpec[] }} Group */

const pools = LOCAL_CONTESTANTS;
const pooled = LOCAL_CONTESTANTS.filter((c) => c !== 'inline');

/** Scenario 8: each queue with its hosts, and the local pool on as many threads as the ceiling. */
const queued = /** @type {const} */ (['corral-nats', 'bullmq', 'corral']);

/** Host (or worker) processes of one thread each in scenario 8, and the ceiling's threads. */
export const QUEUE_HOSTS = 2;

/** The eight scenarios of the report, in order. Titles use the full counts. */
/** @type {readonly Group[]} */
export const GROUPS = [
  {
    id: 1,
    title: 'tiny tasks submitted at once (single-task API, Promise.all)',
    runs: [{ scenario: 'tiny-burst', pools, threads: [THREADS] }],
  },
  {
    id: 2,
    title: "tiny tasks through corral's execute and wrap",
    runs: [
      { scenario: 'tiny-execute', pools: ['corral'], threads: [THREADS] },
      { scenario: 'tiny-keyed', pools: ['corral'], threads: [THREADS] },
      { scenario: 'tiny-wrap', pools: ['corral'], threads: [THREADS] },
    ],
  },
  {
    id: 3,
    title: 'sequential round trips of a tiny task',
    runs: [{ scenario: 'latency', pools, threads: [THREADS] }],
  },
  {
    id: 4,
    title: 'CPU-heavy tasks of about 5 ms',
    runs: [
      { scenario: 'cpu', pools: pooled, threads: [2, 4] },
      { scenario: 'cpu', pools: ['inline'], threads: [1] },
    ],
  },
  {
    id: 5,
    title: '64 KiB payloads, copied and transferred',
    runs: [
      { scenario: 'payload-copy', pools, threads: [THREADS] },
      { scenario: 'payload-transfer', pools: pooled, threads: [THREADS] },
    ],
  },
  {
    id: 6,
    title: "corral's wrap over a long async stream",
    runs: [{ scenario: 'wrap-stream', pools: ['corral'], threads: [THREADS] }],
  },
  {
    id: 7,
    title: 'fine-grained CPU tasks (about 20 µs and 100 µs each), submitted in one batch',
    runs: [
      { scenario: 'fine-20', pools: pooled, threads: [THREADS] },
      { scenario: 'fine-100', pools: pooled, threads: [THREADS] },
    ],
  },
  {
    id: 8,
    title: `across processes: a client and ${QUEUE_HOSTS} hosts of one thread on a work queue (corral on NATS JetStream, BullMQ on Redis)`,
    runs: [
      { scenario: 'queue-tiny', pools: queued, threads: [QUEUE_HOSTS] },
      { scenario: 'queue-cpu', pools: queued, threads: [QUEUE_HOSTS] },
      { scenario: 'queue-long', pools: queued, threads: [QUEUE_HOSTS] },
      { scenario: 'queue-mixed', pools: queued, threads: [QUEUE_HOSTS] },
    ],
  },
];

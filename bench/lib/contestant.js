// @ts-check
/**
 * What every contestant looks like to a scenario, and how a child process loads one by name.
 * Each loader imports its module lazily, so a pool that fails to load (corral not built yet, a
 * missing package) fails only the child process that asked for it.
 */

/** @typedef {import('./tasks.js').TaskName} TaskName */

/** @typedef {{ ok: true, value: unknown } | { ok: false, error: unknown }} Outcome */

/**
 * @typedef {object} Contestant
 * @property {number} parallelism threads that actually run tasks (1 for inline)
 * @property {boolean} transfers whether `run` honours its `transfer` list
 * @property {(task: TaskName, arg: unknown, transfer?: ArrayBuffer[]) => PromiseLike<unknown>} run
 *   submits one task through the pool's single-task API
 * @property {((inputs: Iterable<unknown>, task: TaskName) => AsyncIterable<Outcome>) | undefined} execute
 *   corral's `execute`: an iterable in, outcomes out
 * @property {((inputs: Iterable<unknown>, task: TaskName, keys: number) => AsyncIterable<Outcome>) | undefined} executeKeyed
 *   corral's `execute` with each input keyed, spread over `keys` keys (no target: only the cost of keys)
 * @property {((inputs: AsyncIterable<unknown>, task: TaskName) => AsyncIterable<Outcome>) | undefined} wrap
 *   corral's `wrap`: an async iterable in, outcomes out, with a bounded window
 * @property {((inputs: readonly unknown[], task: TaskName) => Promise<unknown[]>) | undefined} batch
 *   the best batch form the pool offers (corral: `execute`; poolifier: `mapExecute`; the others
 *   have none: undefined, and the scenario uses {@link batchByRun}); resolves with the results in input order
 * @property {(() => number[]) | undefined} [pids] the processes the contestant started besides
 *   this one (a server, hosts, workers): their CPU time is the contestant's, not other load
 * @property {() => Promise<void>} close
 */

/** @typedef {(threads: number) => Promise<Contestant>} CreateContestant */

/** The pools in one process, in report order. */
export const LOCAL_CONTESTANTS = /** @type {const} */ ([
  'corral',
  'corral-process',
  'piscina',
  'poolifier',
  'tinypool',
  'workerpool',
  'bare',
  'inline',
]);

/**
 * The work queues across processes (scenario 8), their thread count being the number of host
 * or worker processes: corral's `RemotePool` on NATS JetStream, BullMQ on Redis.
 */
export const QUEUE_CONTESTANTS = /** @type {const} */ (['corral-nats', 'bullmq']);

/** Contestant names in report order. */
export const CONTESTANTS = /** @type {const} */ ([...LOCAL_CONTESTANTS, ...QUEUE_CONTESTANTS]);

/** @typedef {(typeof CONTESTANTS)[number]} ContestantName */

/** @type {Record<ContestantName, () => Promise<{ create: CreateContestant }>>} */
const loaders = {
  corral: () => import('../contestants/corral.js'),
  'corral-process': () => import('../contestants/corral-process.js'),
  piscina: () => import('../contestants/piscina.js'),
  poolifier: () => import('../contestants/poolifier.js'),
  tinypool: () => import('../contestants/tinypool.js'),
  workerpool: () => import('../contestants/workerpool.js'),
  bare: () => import('../contestants/bare.js'),
  inline: () => import('../contestants/inline.js'),
  'corral-nats': () => import('../cluster/corral-nats.js'),
  bullmq: () => import('../cluster/bullmq.js'),
};

/**
 * @param {string} name
 * @returns {name is ContestantName}
 */
export function isContestantName(name) {
  return /** @type {readonly string[]} */ (CONTESTANTS).includes(name);
}

/**
 * Loads and starts a contestant.
 * @param {ContestantName} name
 * @param {number} threads
 * @returns {Promise<Contestant>}
 */
export async function createContestant(name, threads) {
  const { create } = await loaders[name]();
  return create(threads);
}

/**
 * The batch form of a pool without one: one `run` per input, all at once.
 * @param {Contestant['run']} run
 * @returns {(inputs: readonly unknown[], task: TaskName) => Promise<unknown[]>}
 */
export function batchByRun(run) {
  return (inputs, task) => Promise.all(inputs.map((input) => run(task, input)));
}

/**
 * A batch form for a pool with corral's `execute` (the local `Pool` and the `RemotePool`):
 * the results in input order; the first failed outcome rejects.
 * @param {(inputs: readonly unknown[], task: TaskName) => AsyncIterable<Outcome & { index: number }>} execute
 * @returns {(inputs: readonly unknown[], task: TaskName) => Promise<unknown[]>}
 */
export function batchByExecute(execute) {
  return async (inputs, task) => {
    /** @type {unknown[]} */
    const results = new Array(inputs.length);
    for await (const o of execute(inputs, task)) {
      if (!o.ok) throw o.error;
      results[o.index] = o.value;
    }
    return results;
  };
}

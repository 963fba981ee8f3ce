// @ts-check
/**
 * BullMQ across processes: a `Queue` and a `QueueEvents` in this process, `workers` worker
 * processes of concurrency 1 (`bullmq-worker.js`, the same concurrency as a corral host of one
 * thread), and a fresh `redis-server` between them. A job's result comes back the way a BullMQ
 * client gets one: the `completed` event, with its return value, on `QueueEvents`.
 */
import { Queue, QueueEvents } from 'bullmq';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { startHelper } from './processes.js';
import { startRedis } from './servers.js';

/** @typedef {import('./processes.js').Helper} Helper */
/** @typedef {{ resolve: (value: unknown) => void, reject: (error: Error) => void }} Waiter */
/** @typedef {{ ok: true, value: unknown } | { ok: false, error: Error }} Settled */

const workerScript = fileURLToPath(new URL('./bullmq-worker.js', import.meta.url));

const QUEUE = 'bench';

/** Jobs per `addBulk` call (BullMQ adds a bulk in one Redis transaction). */
const BULK = 1000;

/**
 * Events kept in the queue's event stream. BullMQ's default, 10,000, trims events of a large
 * burst before a client has read them (about four per job), and a job whose `completed` event
 * was trimmed would never settle here.
 */
const EVENTS_MAX_LEN = 2_000_000;

/** Concurrency of each worker process: one job at a time, like a host of one thread. */
const CONCURRENCY = 1;

/**
 * Settles jobs from the queue's events. An event may come before `addBulk` has returned the
 * job's id, so results without a waiter are kept until one asks.
 */
class Results {
  /** Waiters by job id. @type {Map<string, Waiter>} */
  #waiting = new Map();
  /** Results that came before their waiter, by job id. @type {Map<string, Settled>} */
  #early = new Map();

  /**
   * @param {string} id
   * @param {Settled} settled
   */
  settle(id, settled) {
    const waiter = this.#waiting.get(id);
    if (waiter === undefined) {
      this.#early.set(id, settled);
      return;
    }
    this.#waiting.delete(id);
    if (settled.ok) waiter.resolve(settled.value);
    else waiter.reject(settled.error);
  }

  /**
   * @param {string | undefined} id
   * @returns {Promise<unknown>}
   */
  wait(id) {
    if (id === undefined) return Promise.reject(new Error('BullMQ gave a job no id'));
    const early = this.#early.get(id);
    if (early !== undefined) {
      this.#early.delete(id);
      return early.ok ? Promise.resolve(early.value) : Promise.reject(early.error);
    }
    return new Promise((resolve, reject) => this.#waiting.set(id, { resolve, reject }));
  }
}

/** @type {import('../lib/contestant.js').CreateContestant} */
export async function create(workers) {
  const server = await startRedis();
  const connection = { host: server.host, port: server.port };
  /** @type {Helper[]} */
  const helpers = [];
  /** @type {Queue | undefined} */
  let queue;
  /** @type {QueueEvents | undefined} */
  let events;
  try {
    queue = new Queue(QUEUE, { connection, streams: { events: { maxLen: EVENTS_MAX_LEN } } });
    await queue.waitUntilReady();
    // From the start of the stream, so that no event is missed while the first read starts.
    events = new QueueEvents(QUEUE, { connection, lastEventId: '0' });
    await events.waitUntilReady();
    const results = new Results();
    events.on('completed', ({ jobId, returnvalue }) => {
      results.settle(jobId, { ok: true, value: returnvalue });
    });
    events.on('failed', ({ jobId, failedReason }) => {
      results.settle(jobId, { ok: false, error: new Error(failedReason) });
    });
    for (let i = 0; i < workers; i++) {
      helpers.push(
        await startHelper(
          `bullmq worker ${i + 1}`,
          process.execPath,
          [workerScript, String(server.port), QUEUE, String(CONCURRENCY)],
          'ready',
        ),
      );
    }
    const q = queue;
    const ev = events;
    return {
      parallelism: workers,
      transfers: false,
      run: async (task, arg) => results.wait((await q.add(task, arg)).id),
      execute: undefined,
      executeKeyed: undefined,
      wrap: undefined,
      batch: async (inputs, task) => {
        /** @type {Promise<unknown>[]} */
        const pending = [];
        for (let i = 0; i < inputs.length; i += BULK) {
          const jobs = await q.addBulk(
            inputs.slice(i, i + BULK).map((data) => ({ name: task, data })),
          );
          for (const job of jobs) pending.push(results.wait(job.id));
        }
        return Promise.all(pending);
      },
      pids: () => [server.pid, ...helpers.map((h) => h.pid)],
      close: async () => {
        await Promise.all(helpers.map((h) => h.stop()));
        await ev.close();
        await q.close();
        await server.close();
      },
    };
  } catch (error) {
    await Promise.all(helpers.map((h) => h.stop()));
    await events?.close();
    await queue?.close();
    await server.close();
    throw error;
  }
}

// @ts-check
// The floor: one Worker per thread, one postMessage per task, round-robin, results matched by id.
import { URL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** @typedef {import('../lib/tasks.js').TaskName} TaskName */
/** @typedef {{ id: number, task: TaskName, arg: unknown }} BareRequest */
/** @typedef {{ id: number, value: unknown } | { id: number, error: string }} BareReply */
/** @typedef {{ resolve: (value: unknown) => void, reject: (reason: Error) => void }} Pending */

const entry = new URL('../workers/bare.js', import.meta.url);

/** @type {import('../lib/contestant.js').CreateContestant} */
export async function create(threads) {
  /** @type {Map<number, Pending>} */
  const pending = new Map();
  /** @param {BareReply} reply */
  const settle = (reply) => {
    const p = pending.get(reply.id);
    if (p === undefined) return;
    pending.delete(reply.id);
    if ('error' in reply) p.reject(new Error(reply.error));
    else p.resolve(reply.value);
  };
  const workers = Array.from({ length: threads }, () => {
    const worker = new Worker(entry);
    worker.on('message', settle);
    worker.on('error', (error) => {
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    });
    return worker;
  });
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('online', resolve))));
  let nextId = 0;
  return {
    parallelism: threads,
    transfers: true,
    run(task, arg, transfer) {
      const id = nextId++;
      const worker = /** @type {Worker} */ (workers[id % threads]);
      /** @type {BareRequest} */
      const msg = { id, task, arg };
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage(msg, transfer);
      });
    },
    execute: undefined,
    executeKeyed: undefined,
    wrap: undefined,
    batch: undefined,
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

// @ts-check
/**
 * One BullMQ worker process of the queue bench: the bench's task code, run by the job's name.
 *
 *   node bench/cluster/bullmq-worker.js <redis port> <queue> <concurrency>
 *
 * Prints `ready` once it takes jobs; SIGTERM closes it (finishing the jobs it holds) and it
 * exits 0.
 */
import { Worker } from 'bullmq';
import process from 'node:process';
import { runTask } from '../lib/tasks.js';

/** @typedef {import('../lib/tasks.js').TaskName} TaskName */

async function main() {
  const [portArg = '', queue = '', concurrencyArg = '1'] = process.argv.slice(2);
  const worker = new Worker(
    queue,
    // eslint-disable-next-line @typescript-eslint/require-await -- BullMQ wants a promise
    async (job) => runTask(/** @type {TaskName} */ (job.name), job.data),
    {
      connection: { host: '127.0.0.1', port: Number(portArg) },
      concurrency: Number(concurrencyArg),
      autorun: false,
    },
  );
  worker.on('error', (error) => {
    process.stderr.write(`bullmq worker: ${error.message}\n`);
  });
  await worker.waitUntilReady();
  const running = worker.run();
  process.once('SIGTERM', () => void worker.close());
  process.stdout.write('ready\n');
  await running;
  process.exit(0);
}

main().catch((/** @type {unknown} */ error) => {
  process.stderr.write(
    `bullmq worker: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(2);
});

/**
 * What boots inside each worker thread (the pool starts its threads on this file): reads
 * `workerData`, makes the thread's {@link WorkerRuntime} with the port and shared counters it
 * carries, loads the task module, runs `init`, then lets the runtime take jobs.
 */
import { workerData } from 'node:worker_threads';
import type { BootData } from '../src/protocol/messages.js';
import { serveLeases } from './leases.js';
import { countStdio } from './stdio.js';
import { isFailure, loadTasks, startFailed } from './modules.js';
import { WorkerRuntime } from './worker-runtime.js';

const boot = workerData as BootData;
const runtime = new WorkerRuntime(boot);
// Before the task module loads: it may take leases from its top level or its `init()`.
serveLeases(runtime.leases);

async function start(): Promise<void> {
  countStdio();
  // ---- hook (modules): one module or several, see workers/modules.ts
  const loaded = await loadTasks(boot);
  if (isFailure(loaded)) {
    runtime.post(startFailed(loaded));
    return;
  }
  runtime.start(loaded);
}

// Send finished results before the thread dies, so only the job that killed it is in doubt.
process.on('uncaughtException', (error) => {
  runtime.sendFinished();
  throw error;
});
process.on('exit', () => {
  runtime.sendFinished();
});

void start();

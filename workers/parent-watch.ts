/**
 * A worker process's watch on its parent (`isolation: 'process'`). The child exits on its
 * IPC channel's `'disconnect'`, but only when its event loop turns: a child running a long
 * synchronous job when the pool's process is killed (SIGKILL runs no exit hook) would run on
 * as an orphan until the job ends, forever for a loop. Node has no `PR_SET_PDEATHSIG`, so a
 * small thread, which the main thread's loop cannot block, checks the parent's pid twice a
 * second and kills this process once it has been re-parented.
 */
import { Worker } from 'node:worker_threads';

/** Runs in the watching thread; sleeps with `Atomics.wait`, so it needs no event loop. */
const WATCH = `
const { workerData: parent } = require('node:worker_threads');
const nap = new Int32Array(new SharedArrayBuffer(4));
for (;;) {
  Atomics.wait(nap, 0, 0, 500);
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
}
`;

/** Starts the watch; it never keeps this process alive. */
export function watchParent(): void {
  const watch = new Worker(WATCH, {
    eval: true,
    workerData: process.ppid,
    stdout: false,
    stderr: false,
  });
  watch.unref();
  // Without the watch the child still exits on 'disconnect' when its loop is free.
  watch.on('error', () => undefined);
}

// @ts-check
// A task that sleeps `ms` without using the CPU (`handover.js`): the thread's time is not the
// main thread's, and a shared machine's load changes little of what the main thread does.
const cell = new Int32Array(new SharedArrayBuffer(4));

/** @param {number} ms */
export function sleep(ms) {
  Atomics.wait(cell, 0, 0, ms);
  return ms;
}

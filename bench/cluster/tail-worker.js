// @ts-check
// The tail trace's task (`tail.js`): runs `[mode, amount]` (CPU iterations of the bench's `cpu`
// task, or a sleep of `amount` ms) and returns which process ran it and when (epoch ms).
import process from 'node:process';
import { cpu } from '../lib/tasks.js';

const cell = new Int32Array(new SharedArrayBuffer(4));
const origin = performance.timeOrigin;

/** @param {[string, number]} input */
export function trace([mode, amount]) {
  const start = origin + performance.now();
  if (mode === 'sleep') Atomics.wait(cell, 0, 0, amount);
  else cpu(amount);
  return { pid: process.pid, start, end: origin + performance.now() };
}

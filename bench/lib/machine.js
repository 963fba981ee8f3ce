// @ts-check
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout } from 'node:timers/promises';
import { URL } from 'node:url';

/**
 * @typedef {object} Machine
 * @property {string} cpu
 * @property {number} cores usable cores (os.availableParallelism)
 * @property {number} memoryGiB
 * @property {string} node
 * @property {string} v8
 * @property {string} os
 * @property {string} date ISO time the run started
 * @property {string} commit corral's git commit, `-dirty` when the tree has changes
 */

/** @returns {string} */
function gitCommit() {
  const cwd = new URL('..', import.meta.url);
  try {
    const git = (/** @type {string[]} */ ...args) =>
      execFileSync('git', args, {
        cwd,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    return (
      git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain') === '' ? '' : '-dirty')
    );
  } catch {
    return 'unknown';
  }
}

/** @returns {Machine} */
export function describeMachine() {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    commit: gitCommit(),
  };
}

/**
 * CPU time spent by every process on the machine so far, in milliseconds (from the kernel's
 * per-core counters: 10 ms resolution).
 * @returns {number}
 */
export function machineBusyMs() {
  let busy = 0;
  for (const { times } of os.cpus()) busy += times.user + times.nice + times.sys + times.irq;
  return busy;
}

/** Kernel clock ticks per second, the unit of /proc/<pid>/stat's CPU times (100 on Linux). */
const CLOCK_TICKS = 100;

/**
 * CPU time (user + system, all threads) that the processes have used so far, in ms. A process
 * that is gone counts 0.
 * @param {readonly number[]} pids
 * @returns {number}
 */
export function cpuMsOf(pids) {
  return ticksOf(pids.map((pid) => `/proc/${pid}/stat`));
}

/**
 * CPU time (user + system) that the processes' main threads (each the thread whose id is the
 * process's) have used so far, in ms: a host's main thread, without its worker threads.
 * @param {readonly number[]} pids
 * @returns {number}
 */
export function mainThreadCpuMsOf(pids) {
  return ticksOf(pids.map((pid) => `/proc/${pid}/task/${pid}/stat`));
}

/**
 * The CPU time in the given /proc stat files, in ms; a file that is gone counts 0.
 * @param {readonly string[]} files
 * @returns {number}
 */
function ticksOf(files) {
  let ticks = 0;
  for (const file of files) {
    try {
      // The command name (field 2) is in parentheses and may hold spaces: count from after it.
      const stat = readFileSync(file, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
      ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
    } catch {
      // gone, or not Linux: nothing to count
    }
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

/**
 * Measures how many cores other processes kept busy while `work` ran: the machine's busy time
 * minus this process's own CPU time (all its threads) and that of the `helpers` it started (a
 * queue's server and hosts), over the wall time.
 * @template T
 * @param {() => Promise<T>} work
 * @param {readonly number[]} [helpers] pids whose CPU time counts as this process's own
 * @returns {Promise<{ value: T, otherCores: number }>}
 */
export async function withOtherLoad(work, helpers = []) {
  const helpers0 = cpuMsOf(helpers);
  const busy0 = machineBusyMs();
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await work();
  const wallMs = performance.now() - t0;
  const own = process.cpuUsage(own0);
  const helpersMs = cpuMsOf(helpers) - helpers0;
  const otherMs = machineBusyMs() - busy0 - (own.user + own.system) / 1000 - helpersMs;
  return { value, otherCores: wallMs > 0 ? Math.max(0, otherMs / wallMs) : 0 };
}

/**
 * Cores kept busy by other processes, sampled over `ms` while this process sleeps. A benchmark on
 * a machine where this is not near 0 measures the other work as much as the pools.
 * @param {number} [ms]
 * @returns {Promise<number>}
 */
export async function otherLoad(ms = 1000) {
  const busy = () => {
    let total = 0;
    let idle = 0;
    for (const { times } of os.cpus()) {
      total += times.user + times.nice + times.sys + times.irq + times.idle;
      idle += times.idle;
    }
    return { total, idle };
  };
  const a = busy();
  await setTimeout(ms);
  const b = busy();
  const total = b.total - a.total;
  return total <= 0 ? 0 : (1 - (b.idle - a.idle) / total) * os.cpus().length;
}

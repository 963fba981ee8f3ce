// @ts-check
/**
 * The processes a queue contestant starts besides the one measuring it (a server, hosts or
 * workers): started and waited for until they say they are ready, and stopped for sure.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';

/** How long a helper may take to say it is ready. */
const READY_TIMEOUT_MS = 30_000;

/** How long a helper may take to exit after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 10_000;

/** Helpers still running, killed if this process exits without stopping them. */
/** @type {Set<import('node:child_process').ChildProcess>} */
const running = new Set();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * @typedef {object} Helper
 * @property {number} pid
 * @property {string} name what it is, for error messages
 * @property {() => string} log what it printed
 * @property {() => Promise<void>} stop SIGTERM, then SIGKILL after a while; resolves once it exited
 */

/**
 * A free TCP port on 127.0.0.1.
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no free port'));
      });
    });
  });
}

/**
 * Starts a process and resolves once its output contains `ready`.
 * @param {string} name
 * @param {string} command
 * @param {readonly string[]} args
 * @param {string} ready a string its stdout or stderr prints once it is ready
 * @returns {Promise<Helper>}
 */
export function startHelper(name, command, args, ready) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const tail = () => output.trim().split('\n').slice(-5).join(' / ');
  /** @type {Promise<void>} */
  const exited = new Promise((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
  });

  /** @type {Helper['stop']} */
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${name} not ready after ${READY_TIMEOUT_MS / 1000} s: ${tail()}`));
    }, READY_TIMEOUT_MS);
    const onData = (/** @type {Buffer} */ chunk) => {
      const before = output.length;
      output += chunk.toString();
      // The marker may straddle two chunks.
      if (output.includes(ready, Math.max(0, before - ready.length))) {
        clearTimeout(timer);
        resolve({ pid: child.pid ?? 0, name, log: () => output, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${name} could not start: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${signal ?? `code ${String(code)}`}): ${tail()}`));
    });
  });
}

// @ts-check
/**
 * The servers of the queue contestants, each started for one run on a free 127.0.0.1 port with
 * a scratch folder, and stopped (and the folder deleted) after it: `nats-server -js` the way the
 * tests start it (test/helpers/nats-server.ts), and Debian's `redis-server` without persistence.
 */
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import process from 'node:process';
import { freePort, startHelper } from './processes.js';

/**
 * @typedef {object} Server
 * @property {string} host
 * @property {number} port
 * @property {number} pid
 * @property {() => Promise<void>} close stops the server and deletes its folder
 */

/**
 * Finds an executable in $PATH and the usual sbin folders.
 * @param {string} name
 * @param {string} install how to get it, for the error
 * @returns {string}
 */
function findBinary(name, install) {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new Error(`${name} was not found in $PATH, /usr/sbin or /usr/local/bin: ${install}`);
}

/**
 * Starts a server process in a scratch folder that `close()` deletes.
 * @param {string} name
 * @param {string} binary
 * @param {(port: number, dir: string) => string[]} args
 * @param {string} ready
 * @returns {Promise<Server>}
 */
async function startServer(name, binary, args, ready) {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), `corral-bench-${name}-`));
  try {
    const helper = await startHelper(name, binary, args(port, dir), ready);
    return {
      host: '127.0.0.1',
      port,
      pid: helper.pid,
      close: async () => {
        await helper.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** @returns {Promise<Server>} a `nats-server -js` with its store in a scratch folder */
export function startNats() {
  const binary = findBinary('nats-server', 'apt-get install nats-server');
  return startServer(
    'nats-server',
    binary,
    (port, dir) => ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir],
    'Server is ready',
  );
}

/** @returns {Promise<Server>} a `redis-server` that never writes to disk */
export function startRedis() {
  const binary = findBinary('redis-server', 'apt-get install redis-server');
  return startServer(
    'redis-server',
    binary,
    (port, dir) => [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    'Ready to accept connections',
  );
}

// @ts-check
/**
 * corral across processes: a `RemotePool` in this process, `threads` host processes of one
 * thread each (`corral-host.js`), and a fresh `nats-server -js` between them.
 */
import { connect } from '@nats-io/transport-node';
import { fileURLToPath, URL } from 'node:url';
import process from 'node:process';
import { loadCorralNats } from './corral-nats-api.js';
import { startHelper } from './processes.js';
import { startNats } from './servers.js';
import { batchByExecute } from '../lib/contestant.js';

/** @typedef {import('./processes.js').Helper} Helper */

const hostScript = fileURLToPath(new URL('./corral-host.js', import.meta.url));

/** The queue's name: each run has a server of its own, so one name does. */
const QUEUE = 'bench';

/** @type {import('../lib/contestant.js').CreateContestant} */
export async function create(hosts) {
  // Fail before starting anything if the build has no work queue.
  const { RemotePool } = await loadCorralNats();
  const server = await startNats();
  const url = `nats://${server.host}:${server.port}`;
  /** @type {Helper[]} */
  const helpers = [];
  /** @type {import('@nats-io/transport-node').NatsConnection | undefined} */
  let nc;
  try {
    // One at a time: the first sets the queue's streams up.
    for (let i = 0; i < hosts; i++) {
      helpers.push(
        await startHelper(
          `corral host ${i + 1}`,
          process.execPath,
          [hostScript, url, QUEUE, '1'],
          'ready',
        ),
      );
    }
    nc = await connect({ servers: url });
    const pool = new RemotePool(nc, QUEUE);
    await pool.ready();
    const conn = nc;
    return {
      parallelism: hosts,
      transfers: false,
      run: (task, arg) => pool.do(arg, { task }),
      execute: (inputs, task) => pool.execute(inputs, { task }),
      executeKeyed: undefined,
      wrap: (inputs, task) => pool.wrap(inputs, { task }),
      batch: batchByExecute((inputs, task) => pool.execute(inputs, { task })),
      pids: () => [server.pid, ...helpers.map((h) => h.pid)],
      close: async () => {
        await pool.shutdown();
        await Promise.all(helpers.map((h) => h.stop()));
        await conn.close();
        await server.close();
      },
    };
  } catch (error) {
    await Promise.all(helpers.map((h) => h.stop()));
    await nc?.close();
    await server.close();
    throw error;
  }
}

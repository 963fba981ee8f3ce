// @ts-check
/**
 * One corral host process of the queue bench: `serve()` of `corral/nats` on the bench's task
 * module, loaded from corral's build output at run time like the local pool contestant.
 *
 *   node bench/cluster/corral-host.js <nats url> <queue> <threads>
 *
 * Prints `ready` once it takes jobs; SIGTERM drains it and it exits 0. Its connection is named
 * `host <pid>`, so that the server's `/connz` tells the messages each host sent
 * (`message-cost.js`).
 */
import { connect } from '@nats-io/transport-node';
import process from 'node:process';
import { URL } from 'node:url';
import { loadCorralNats } from './corral-nats-api.js';

const taskModule = new URL('../workers/corral.js', import.meta.url);

async function main() {
  const [server = '', queue = '', threadsArg = '1'] = process.argv.slice(2);
  const threads = Number(threadsArg);
  const { serve } = await loadCorralNats();
  // As `corral serve` connects: no stack captured per request (each confirmed ack).
  const nc = await connect({ servers: server, noAsyncTraces: true, name: `host ${process.pid}` });
  const host = await serve(nc, queue, { module: taskModule, threads });
  process.once('SIGTERM', () => void host.drain());
  process.stdout.write('ready\n');
  await host.closed();
  await nc.close();
  process.exit(0);
}

main().catch((/** @type {unknown} */ error) => {
  process.stderr.write(`corral host: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});

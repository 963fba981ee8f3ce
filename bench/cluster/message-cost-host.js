// @ts-check
/**
 * A host of `message-cost.js`: `corral-host.js` with its connection named `host <pid>`, so
 * that the server's `/connz` tells the messages it sent.
 *
 *   node bench/cluster/message-cost-host.js <nats url> <queue> <threads>
 */
import { connect } from '@nats-io/transport-node';
import process from 'node:process';
import { URL } from 'node:url';
import { loadCorralNats } from './corral-nats-api.js';

const taskModule = new URL('../workers/corral.js', import.meta.url);

async function main() {
  const [server = '', queue = '', threadsArg = '1'] = process.argv.slice(2);
  const { serve } = await loadCorralNats();
  const nc = await connect({ servers: server, noAsyncTraces: true, name: `host ${process.pid}` });
  const host = await serve(nc, queue, { module: taskModule, threads: Number(threadsArg) });
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

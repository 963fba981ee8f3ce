// @ts-check
// A host of the tail trace (`tail.js`): as `corral-host.js`, on `tail-worker.js`.
import { connect } from '@nats-io/transport-node';
import process from 'node:process';
import { URL } from 'node:url';
import { loadCorralNats } from './corral-nats-api.js';

const [server = '', queue = '', threadsArg = '1'] = process.argv.slice(2);
const { serve } = await loadCorralNats();
const nc = await connect({ servers: server, noAsyncTraces: true, name: `host ${process.pid}` });
const host = await serve(nc, queue, {
  module: new URL('./tail-worker.js', import.meta.url),
  threads: Number(threadsArg),
});
process.once('SIGTERM', () => void host.drain());
process.stdout.write('ready\n');
await host.closed();
await nc.close();
process.exit(0);

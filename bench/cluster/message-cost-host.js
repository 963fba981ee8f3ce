// @ts-check
/**
 * A host of `message-cost.js`: `corral-host.js` plus an answer on `bench.host-stats` with its
 * local pool's busy and thread time (how long its threads idled) and the host's counters.
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
  const { pool } = /** @type {{ pool: { stats(): { busyTime: number, threadTime: number } } }} */ (
    /** @type {unknown} */ (host)
  );
  // A connection of its own, so that the answers do not count in the host's messages.
  const side = await connect({ servers: server });
  side.subscribe('bench.host-stats', {
    callback: (_error, message) => {
      const s = pool.stats();
      message.respond(
        JSON.stringify({ pid: process.pid, busyTime: s.busyTime, threadTime: s.threadTime }),
      );
    },
  });
  process.once('SIGTERM', () => void host.drain());
  process.stdout.write('ready\n');
  await host.closed();
  await side.close();
  await nc.close();
  process.exit(0);
}

main().catch((/** @type {unknown} */ error) => {
  process.stderr.write(`corral host: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});

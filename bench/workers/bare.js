// @ts-check
// The floor: a hand-written worker that answers one message per task on its parent port.
import { parentPort } from 'node:worker_threads';
import { runTask } from '../lib/tasks.js';

/** @typedef {import('../contestants/bare.js').BareRequest} BareRequest */
/** @typedef {import('../contestants/bare.js').BareReply} BareReply */

const port = parentPort;
if (port === null) throw new Error('bench/workers/bare.js must run in a worker thread');

port.on('message', (/** @type {BareRequest} */ msg) => {
  /** @type {BareReply} */
  let reply;
  try {
    reply = { id: msg.id, value: runTask(msg.task, msg.arg) };
  } catch (error) {
    reply = { id: msg.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});

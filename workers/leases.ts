/**
 * Keyed targets inside a task: leases taken through the pool (one message each way),
 * and the shared counters read directly.
 */
import { workerData } from 'node:worker_threads';
import { OutsidePoolError } from '../src/util/errors.js';
import { abortable } from '../src/util/abort.js';
import { readCounters } from '../src/protocol/key-counters.js';
import { Lease } from '../src/protocol/lease.js';
import type { BootData, FromWorker, KeyMessage, LeaseMessage } from '../src/protocol/messages.js';
import { fromWire } from '../src/protocol/wire-error.js';

const boot = workerData as BootData | null;
/** The pool's shared counters (replaced when the table grows). */
let counters: Int32Array | undefined = boot?.keyCounters;
/** Key -> slot in `counters`. */
const slots = new Map<string, number>(boot?.keySlots ?? []);
/** Lease requests waiting for the pool's answer. */
const pending = new Map<
  number,
  { key: string; resolve: (l: Lease) => void; reject: (e: Error) => void }
>();
let nextReq = 1;

function post(message: FromWorker): void {
  if (boot === null) throw new OutsidePoolError('acquire()');
  boot.port.postMessage(message);
}

/**
 * Takes a lease on `key`, counted against the same target as the pool's keyed jobs
 * and main-thread leases. Waits while the key is at its target.
 *
 * @example
 * ```ts
 * export async function sync(row: Row) {
 *   await using lease = await acquire(`db:${row.shard}`);
 *   await write(row);
 * }
 * ```
 */
export function acquire(key: string, options?: { signal?: AbortSignal }): Promise<Lease> {
  return abortable<Lease>(options?.signal, (resolve, reject) => {
    const req = nextReq++;
    pending.set(req, { key, resolve, reject });
    post({ type: 'acquire', req, key });
    return () => {
      pending.delete(req);
      post({ type: 'withdraw', req });
    };
  });
}

/** A key's target and active count (jobs running and leases held), read from shared memory. */
export function counts(key: string): { target: number; active: number } | undefined {
  const slot = slots.get(key);
  if (slot === undefined || counters === undefined) return undefined;
  return readCounters(counters, slot);
}

/** The pool answered a lease request. */
export function onLease(message: LeaseMessage): void {
  const request = pending.get(message.req);
  if (request === undefined) {
    // Withdrawn while the grant was on its way: give it straight back.
    if (message.error === undefined) post({ type: 'release', id: message.id });
    return;
  }
  pending.delete(message.req);
  if (message.error !== undefined) {
    const error = fromWire(message.error);
    request.reject(error instanceof Error ? error : new Error(String(error)));
    return;
  }
  const id = message.id;
  request.resolve(
    new Lease(id, request.key, () => {
      post({ type: 'release', id });
    }),
  );
}

/** The pool announced a key's slot. */
export function onKey(message: KeyMessage): void {
  if (message.counters !== undefined) counters = message.counters;
  slots.set(message.key, message.slot);
}

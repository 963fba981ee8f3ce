/**
 * The queue's two messages, as bytes: a **job message** (client to hosts) carries several
 * jobs of one client; a **result message** (host to that client) carries several results.
 *
 * Inputs and results keep structured-clone semantics through `node:v8` serialisation
 * (typed arrays, Map, Set, Date, BigInt, cycles survive). A whole message is one
 * serialisation: `v8.serialize` has a fixed cost per call many times a tiny job's own, so
 * one call per job would bound a host at a few thousand jobs a second. A message too large
 * (or holding a value that cannot be serialised) is split by its sender until each part
 * fits or holds the one job at fault, which alone fails.
 *
 * Layout of both: a 1-byte kind (`J` or `R`), a 1-byte version, then one v8-serialised
 * array:
 * - job message: `[clientId, (id, task, timeout, maxTries, key | null) × n, traces?, inputs]`,
 *   where `traces` (present only when some job is traced) holds each job's W3C
 *   `traceparent` or null. A reader takes the job fields from the front and the inputs from
 *   the end, so one that predates `traces` ignores it.
 * - result message: `[hostId, runMs, (id, status, redelivered) × n, values]`
 *
 * An error result's value is a {@link WireError}.
 *
 * @module
 */
import { deserialize, serialize } from 'node:v8';
import { ResultStatus } from '../../protocol/codec.js';
import { toWire, type WireError } from './queue-wire-error.js';

const VERSION = 1;
const KIND_JOBS = 0x4a; // 'J'
const KIND_RESULTS = 0x52; // 'R'
const JOB_FIELDS = 5;
const RESULT_FIELDS = 3;

/**
 * Bytes of a NATS message that are not this codec's (the message-id header and the
 * protocol line): a message's body may be at most `max_payload` less this.
 */
export const FRAMING_RESERVE = 512;

/** How a result ended: the thread protocol's two statuses that a host reports. */
export { ResultStatus };
export type WireResultStatus = typeof ResultStatus.Ok | typeof ResultStatus.Error;

/** One job as it travels. */
export interface WireJob {
  /** Unique per client. */
  readonly id: number;
  readonly task: string;
  /** Run-time limit per try on the host, in ms; 0 for none. */
  readonly timeout: number;
  readonly maxTries: number;
  readonly key: string | undefined;
  readonly input: unknown;
  /** The W3C trace context of the client's producer span, when the job is traced. */
  readonly traceparent?: string | undefined;
}

/** One result as it travels: the task's value, or a {@link WireError}. */
export interface WireResult {
  readonly id: number;
  readonly status: WireResultStatus;
  /** The job ran again after a host was lost. */
  readonly redelivered: boolean;
  readonly value: unknown;
}

/** A message that this version cannot read (another version, or not corral's). */
export class MalformedMessageError extends Error {
  override readonly name = 'MalformedMessageError';
}

function frame(kind: number, body: unknown[]): Uint8Array {
  const data = serialize(body);
  const out = Buffer.allocUnsafe(2 + data.length);
  out[0] = kind;
  out[1] = VERSION;
  data.copy(out, 2);
  return out;
}

function unframe(kind: number, data: Uint8Array): unknown[] {
  if (data.length < 2 || data[0] !== kind) {
    throw new MalformedMessageError('not a corral queue message');
  }
  if (data[1] !== VERSION) {
    throw new MalformedMessageError(
      `queue message version ${data[1]}; this corral reads ${VERSION}`,
    );
  }
  const body = deserialize(data.subarray(2)) as unknown;
  if (!Array.isArray(body)) throw new MalformedMessageError('bad queue message');
  return body;
}

/**
 * The bytes of a job message carrying `jobs` of client `clientId`. Throws what
 * `v8.serialize` throws if an input holds something that cannot be serialised.
 */
export function encodeJobs(clientId: string, jobs: readonly WireJob[]): Uint8Array {
  const body: unknown[] = [clientId];
  const inputs: unknown[] = [];
  let traces: (string | null)[] | undefined;
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i] as WireJob;
    body.push(job.id, job.task, job.timeout, job.maxTries, job.key ?? null);
    inputs.push(job.input);
    if (job.traceparent !== undefined) {
      traces ??= new Array<string | null>(jobs.length).fill(null);
      traces[i] = job.traceparent;
    }
  }
  if (traces !== undefined) body.push(traces);
  body.push(inputs);
  return frame(KIND_JOBS, body);
}

/** A job message, read. */
export interface JobBatch {
  readonly clientId: string;
  readonly jobs: WireJob[];
}

/** Reads a job message; throws {@link MalformedMessageError} if it is not one this version reads. */
export function decodeJobs(data: Uint8Array): JobBatch {
  const body = unframe(KIND_JOBS, data);
  const clientId = body[0];
  const inputs = body[body.length - 1];
  if (typeof clientId !== 'string' || !Array.isArray(inputs)) {
    throw new MalformedMessageError('bad job message');
  }
  const traces = body.length === 3 + inputs.length * JOB_FIELDS ? body[body.length - 2] : undefined;
  const jobs: WireJob[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const f = 1 + i * JOB_FIELDS;
    const key = body[f + 4] as string | null;
    const traceparent = Array.isArray(traces) ? (traces[i] as unknown) : undefined;
    jobs.push({
      id: body[f] as number,
      task: body[f + 1] as string,
      timeout: body[f + 2] as number,
      maxTries: body[f + 3] as number,
      key: key ?? undefined,
      input: inputs[i],
      traceparent: typeof traceparent === 'string' ? traceparent : undefined,
    });
  }
  return { clientId, jobs };
}

/**
 * The bytes of a result message from host `hostId`; `runMs` is its estimate of a job's
 * cost. Throws what `v8.serialize` throws if a value holds something that cannot be.
 */
export function encodeResults(
  hostId: string,
  runMs: number,
  results: readonly WireResult[],
): Uint8Array {
  const body: unknown[] = [hostId, runMs];
  const values: unknown[] = [];
  for (const r of results) {
    body.push(r.id, r.status, r.redelivered);
    values.push(r.value);
  }
  body.push(values);
  return frame(KIND_RESULTS, body);
}

/** A result message, read. */
export interface ResultBatch {
  readonly hostId: string;
  readonly runMs: number;
  readonly results: WireResult[];
}

/** Reads a result message; throws {@link MalformedMessageError} if it is not one this version reads. */
export function decodeResults(data: Uint8Array): ResultBatch {
  const body = unframe(KIND_RESULTS, data);
  const [hostId, runMs] = body;
  const values = body[body.length - 1];
  if (typeof hostId !== 'string' || typeof runMs !== 'number' || !Array.isArray(values)) {
    throw new MalformedMessageError('bad result message');
  }
  const results: WireResult[] = [];
  for (let i = 0; i < values.length; i++) {
    const f = 2 + i * RESULT_FIELDS;
    results.push({
      id: body[f] as number,
      status: body[f + 1] as WireResultStatus,
      redelivered: body[f + 2] === true,
      value: values[i],
    });
  }
  return { hostId, runMs, results };
}

/** An error as a result's value. */
export function errorValue(error: unknown): WireError {
  return toWire(error);
}

/** Whether `value` can be serialised (and so sent). */
export function serialisable(value: unknown): boolean {
  try {
    serialize(value);
    return true;
  } catch {
    return false;
  }
}

/** The bytes of a cancel notice: client `clientId` gave up jobs `ids`. */
export function encodeCancel(clientId: string, ids: readonly number[]): Uint8Array {
  return serialize([clientId, ...ids]);
}

/** Reads a cancel notice; `undefined` if it is not one. */
export function decodeCancel(data: Uint8Array): { clientId: string; ids: number[] } | undefined {
  try {
    const value = deserialize(data) as unknown;
    if (!Array.isArray(value) || typeof value[0] !== 'string') return undefined;
    const [clientId, ...ids] = value as [string, ...number[]];
    return { clientId, ids };
  } catch {
    return undefined;
  }
}

/** Where {@link pack} puts what it made of the items. */
export interface PackSink<T> {
  /** A message holding `items`. */
  message(items: T[], data: Uint8Array): void;
  /** An item that alone makes a message larger than the limit. */
  tooLarge(item: T, size: number): void;
  /** An item that cannot be serialised. */
  unserialisable(item: T, error: unknown): void;
}

/**
 * Encodes `items` as few messages as fit: each at most `maxBytes`, or `limit` for a message
 * of a single item. A message too large, or that fails to serialise, is split in halves
 * until it fits or holds the one item at fault.
 */
export function pack<T>(
  items: T[],
  encode: (items: T[]) => Uint8Array,
  maxBytes: number,
  limit: number,
  sink: PackSink<T>,
): void {
  let data: Uint8Array | undefined;
  let failure: unknown;
  try {
    data = encode(items);
  } catch (error) {
    failure = error;
  }
  const single = items.length === 1;
  if (data !== undefined && data.length <= (single ? limit : maxBytes)) {
    sink.message(items, data);
    return;
  }
  if (single) {
    const item = items[0] as T;
    if (data === undefined) sink.unserialisable(item, failure);
    else sink.tooLarge(item, data.length);
    return;
  }
  const half = Math.ceil(items.length / 2);
  pack(items.slice(0, half), encode, maxBytes, limit, sink);
  pack(items.slice(half), encode, maxBytes, limit, sink);
}

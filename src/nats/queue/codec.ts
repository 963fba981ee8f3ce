/**
 * The queue's two messages, as bytes: a **job message** (client to hosts) carries several
 * jobs of one client; a **result message** (host to that client) carries several results.
 *
 * Inputs and results keep structured-clone semantics through `node:v8` serialisation
 * (typed arrays, Map, Set, Date, BigInt, cycles survive). Each payload is serialised on
 * its own, once, so its size is known before it joins a message (a payload over the limit
 * fails its own job, not the message) and a host or client deserialises only what it uses.
 *
 * Layout of both: a 1-byte kind (`J` or `R`), a 1-byte version, a 4-byte little-endian
 * length of the header, the header (v8-serialised array), then the payloads back to back.
 * - job header: `[clientId, count, (id, task, timeout, maxTries, key | null, bytes) × count]`
 * - result header: `[hostId, runMs, count, (id, status, redelivered, bytes) × count]`
 *
 * @module
 */
import { deserialize, serialize } from 'node:v8';
import { DataCloneError } from '../../index.js';
import { toWire, type WireError } from './wire-error.js';

const VERSION = 1;
const KIND_JOBS = 0x4a; // 'J'
const KIND_RESULTS = 0x52; // 'R'
const PREAMBLE = 6;
const JOB_FIELDS = 6;
const RESULT_FIELDS = 4;

/**
 * Bytes of a message that are not payload (kind, version, header, the msg-id header of the
 * NATS message): a payload may be at most `max_payload` less this.
 */
export const FRAMING_RESERVE = 1024;

/** How a result ended. */
export const ResultStatus = { Ok: 0, Error: 1 } as const;
export type ResultStatus = (typeof ResultStatus)[keyof typeof ResultStatus];

/** One job as it travels: its input already serialised. */
export interface WireJob {
  /** Unique per client. */
  readonly id: number;
  readonly task: string;
  /** Run-time limit per try on the host, in ms; 0 for none. */
  readonly timeout: number;
  readonly maxTries: number;
  readonly key: string | undefined;
  readonly input: Uint8Array;
}

/** One result as it travels: its value (or wire error) already serialised. */
export interface WireResult {
  readonly id: number;
  readonly status: ResultStatus;
  /** The job ran again after a host was lost. */
  readonly redelivered: boolean;
  readonly payload: Uint8Array;
}

/** A message that this version cannot read (another version, or not corral's). */
export class MalformedMessageError extends Error {
  override readonly name = 'MalformedMessageError';
}

/** Serialises a job's input; throws `ERR_DATA_CLONE` if it holds something that cannot be. */
export function encodeInput(input: unknown): Uint8Array {
  try {
    return serialize(input);
  } catch (error) {
    throw new DataCloneError('input', { cause: error });
  }
}

/** Serialises a task's result; throws `ERR_DATA_CLONE` if it holds something that cannot be. */
export function encodeValue(value: unknown): Uint8Array {
  try {
    return serialize(value);
  } catch (error) {
    throw new DataCloneError('result', { cause: error });
  }
}

/** Serialises an error as {@link WireError} data. Never throws. */
export function encodeError(error: unknown): Uint8Array {
  return serialize(toWire(error));
}

/** The value or wire error in a payload. */
export function decodePayload(payload: Uint8Array): unknown {
  return deserialize(payload);
}

/** The wire error in an error result's payload. */
export function decodeError(payload: Uint8Array): WireError {
  return deserialize(payload) as WireError;
}

function frame(kind: number, header: unknown[], payloads: Uint8Array[], total: number): Uint8Array {
  const head = serialize(header);
  const out = Buffer.allocUnsafe(PREAMBLE + head.length + total);
  out[0] = kind;
  out[1] = VERSION;
  out.writeUInt32LE(head.length, 2);
  head.copy(out, PREAMBLE);
  let at = PREAMBLE + head.length;
  for (const p of payloads) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function unframe(kind: number, data: Uint8Array): { header: unknown[]; body: number } {
  if (data.length < PREAMBLE || data[0] !== kind) {
    throw new MalformedMessageError('not a corral queue message');
  }
  if (data[1] !== VERSION) {
    throw new MalformedMessageError(
      `queue message version ${data[1]}; this corral reads ${VERSION}`,
    );
  }
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const length = buffer.readUInt32LE(2);
  const header = deserialize(buffer.subarray(PREAMBLE, PREAMBLE + length)) as unknown;
  if (!Array.isArray(header)) throw new MalformedMessageError('bad queue message header');
  return { header, body: PREAMBLE + length };
}

/** The bytes of a job message carrying `jobs` of client `clientId`. */
export function encodeJobs(clientId: string, jobs: readonly WireJob[]): Uint8Array {
  const header: unknown[] = [clientId, jobs.length];
  const payloads: Uint8Array[] = [];
  let total = 0;
  for (const job of jobs) {
    header.push(job.id, job.task, job.timeout, job.maxTries, job.key ?? null, job.input.length);
    payloads.push(job.input);
    total += job.input.length;
  }
  return frame(KIND_JOBS, header, payloads, total);
}

/** A job message, read. */
export interface JobBatch {
  readonly clientId: string;
  readonly jobs: WireJob[];
}

/** Reads a job message; throws {@link MalformedMessageError} if it is not one this version reads. */
export function decodeJobs(data: Uint8Array): JobBatch {
  const { header, body } = unframe(KIND_JOBS, data);
  const [clientId, count] = header;
  if (typeof clientId !== 'string' || typeof count !== 'number') {
    throw new MalformedMessageError('bad job message header');
  }
  const jobs: WireJob[] = [];
  let at = body;
  for (let i = 0; i < count; i++) {
    const f = 2 + i * JOB_FIELDS;
    const bytes = header[f + 5] as number;
    const key = header[f + 4] as string | null;
    jobs.push({
      id: header[f] as number,
      task: header[f + 1] as string,
      timeout: header[f + 2] as number,
      maxTries: header[f + 3] as number,
      key: key ?? undefined,
      input: data.subarray(at, at + bytes),
    });
    at += bytes;
  }
  return { clientId, jobs };
}

/** The bytes of a result message from host `hostId`; `runMs` is its recent mean run time per job. */
export function encodeResults(
  hostId: string,
  runMs: number,
  results: readonly WireResult[],
): Uint8Array {
  const header: unknown[] = [hostId, runMs, results.length];
  const payloads: Uint8Array[] = [];
  let total = 0;
  for (const r of results) {
    header.push(r.id, r.status, r.redelivered, r.payload.length);
    payloads.push(r.payload);
    total += r.payload.length;
  }
  return frame(KIND_RESULTS, header, payloads, total);
}

/** A result message, read. */
export interface ResultBatch {
  readonly hostId: string;
  readonly runMs: number;
  readonly results: WireResult[];
}

/** Reads a result message; throws {@link MalformedMessageError} if it is not one this version reads. */
export function decodeResults(data: Uint8Array): ResultBatch {
  const { header, body } = unframe(KIND_RESULTS, data);
  const [hostId, runMs, count] = header;
  if (typeof hostId !== 'string' || typeof runMs !== 'number' || typeof count !== 'number') {
    throw new MalformedMessageError('bad result message header');
  }
  const results: WireResult[] = [];
  let at = body;
  for (let i = 0; i < count; i++) {
    const f = 3 + i * RESULT_FIELDS;
    const bytes = header[f + 3] as number;
    results.push({
      id: header[f] as number,
      status: header[f + 1] as ResultStatus,
      redelivered: header[f + 2] === true,
      payload: data.subarray(at, at + bytes),
    });
    at += bytes;
  }
  return { hostId, runMs, results };
}

/** Bytes a job adds to a message beyond its input (its share of the header), at most. */
export function jobOverhead(task: string, key: string | undefined): number {
  return 48 + task.length * 3 + (key === undefined ? 0 : key.length * 3);
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

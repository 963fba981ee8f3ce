/**
 * The queue's wire format on its own (no server): job and result messages round-trip with
 * structured-clone values, a batch too large or unserialisable is split down to the one
 * item at fault, and errors come back as corral's own classes. Uses the built internals.
 */
import { deserialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { JobTimeoutError, UnknownTaskError } from 'corral';
import { HostLostError } from 'corral/nats';
import {
  decodeJobs,
  decodeResults,
  encodeJobs,
  encodeResults,
  MalformedMessageError,
  pack,
  ResultStatus,
} from '#internal/nats/queue/queue-codec.js';
import { fromWire, toWire } from '#internal/nats/queue/queue-wire-error.js';

describe('job and result messages', () => {
  it('round-trip their jobs and values', () => {
    const input = { m: new Map([[1n, new Date(0)]]), b: new Uint16Array([7]) };
    const data = encodeJobs('client-1', [
      { id: 1, task: 'a', timeout: 0, maxTries: 1, key: undefined, input },
      { id: 2, task: 'b', timeout: 50, maxTries: 3, key: 'k', input: 'x' },
    ]);
    const batch = decodeJobs(data);
    expect(batch.clientId).toBe('client-1');
    expect(batch.jobs).toEqual([
      { id: 1, task: 'a', timeout: 0, maxTries: 1, key: undefined, input },
      { id: 2, task: 'b', timeout: 50, maxTries: 3, key: 'k', input: 'x' },
    ]);
    const results = decodeResults(
      encodeResults('host-1', 0.5, [
        { id: 1, status: ResultStatus.Ok, redelivered: false, value: 10n },
        { id: 2, status: ResultStatus.Error, redelivered: true, value: toWire(new Error('e')) },
      ]),
    );
    expect(results.hostId).toBe('host-1');
    expect(results.runMs).toBe(0.5);
    expect(results.results[0]).toEqual({
      id: 1,
      status: ResultStatus.Ok,
      redelivered: false,
      value: 10n,
    });
    expect(results.results[1]).toMatchObject({ id: 2, redelivered: true });
  });

  it("carry a traced job's traceparent, which a reader from before it ignores", () => {
    const traceparent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    const jobs = [
      { id: 1, task: 'a', timeout: 0, maxTries: 1, key: undefined, input: [1] },
      { id: 2, task: 'b', timeout: 0, maxTries: 1, key: 'k', input: 'x', traceparent },
    ];
    const data = encodeJobs('c', jobs);
    const read = decodeJobs(data).jobs;
    expect(read[0]?.traceparent).toBeUndefined();
    expect(read[1]?.traceparent).toBe(traceparent);
    // The reader of version 1 before traces: job fields from the front, inputs from the end.
    const body = deserialize(data.subarray(2)) as unknown[];
    const inputs = body[body.length - 1] as unknown[];
    const old = inputs.map((input, i) => ({ id: body[1 + i * 5], key: body[5 + i * 5], input }));
    expect(old).toEqual([
      { id: 1, key: null, input: [1] },
      { id: 2, key: 'k', input: 'x' },
    ]);
    // Untraced jobs add nothing to the message.
    const plain = encodeJobs('c', [jobs[0] as (typeof jobs)[0]]);
    expect((deserialize(plain.subarray(2)) as unknown[]).length).toBe(1 + 5 + 1);
  });

  it('refuses what is not a message of this version', () => {
    expect(() => decodeJobs(new Uint8Array([1, 2, 3]))).toThrow(MalformedMessageError);
    const data = encodeJobs('c', []);
    data[1] = 99;
    expect(() => decodeJobs(data)).toThrow(/version 99/);
    expect(() => decodeResults(encodeJobs('c', []))).toThrow(MalformedMessageError);
  });
});

describe('pack', () => {
  const encode = (items: unknown[]): Uint8Array =>
    encodeJobs(
      'c',
      items.map((input, id) => ({ id, task: 't', timeout: 0, maxTries: 1, key: undefined, input })),
    );

  it('splits a batch until each message fits, and fails only the item that never does', () => {
    const items: unknown[] = [
      ...Array.from({ length: 10 }, () => 'x'.repeat(300)),
      'y'.repeat(5000),
      () => 1,
      'z',
    ];
    const messages: unknown[][] = [];
    const tooLarge: unknown[] = [];
    const unserialisable: unknown[] = [];
    pack(items, encode, 1000, 4000, {
      message: (part, data) => {
        expect(data.length).toBeLessThanOrEqual(part.length === 1 ? 4000 : 1000);
        messages.push(part);
      },
      tooLarge: (item, size) => {
        expect(size).toBeGreaterThan(4000);
        tooLarge.push(item);
      },
      unserialisable: (item) => unserialisable.push(item),
    });
    expect(messages.flat()).toEqual(items.filter((i) => typeof i === 'string' && i.length < 5000));
    expect(tooLarge).toEqual(['y'.repeat(5000)]);
    expect(unserialisable).toHaveLength(1);
    expect(typeof unserialisable[0]).toBe('function');
  });
});

describe('errors across the wire', () => {
  it("come back as corral's classes with their code and fields, or as plain errors", () => {
    const timeout = fromWire(toWire(new JobTimeoutError(50)));
    expect(timeout).toBeInstanceOf(JobTimeoutError);
    expect(timeout).toMatchObject({ code: 'ERR_JOB_TIMEOUT', name: 'JobTimeoutError' });
    const unknown = fromWire(toWire(new UnknownTaskError('x', ['a'])));
    expect(unknown).toBeInstanceOf(UnknownTaskError);
    const lost = fromWire(toWire(new HostLostError(1, 1)));
    expect(lost).toBeInstanceOf(HostLostError);
    expect(lost).toMatchObject({ code: 'ERR_HOST_LOST', deliveries: 1 });

    const thrown = Object.assign(new TypeError('bad', { cause: new Error('root') }), {
      code: 'E_X',
    });
    const rebuilt = fromWire(toWire(thrown)) as Error;
    expect(rebuilt).toMatchObject({ name: 'TypeError', message: 'bad', code: 'E_X' });
    expect(rebuilt.cause).toMatchObject({ message: 'root' });
    expect(rebuilt.stack).toBe(thrown.stack);
    expect(fromWire(toWire('a string'))).toBe('a string');
  });
});

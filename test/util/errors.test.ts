import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as corral from 'corral';
import { CorralError, ERROR_CODES, PoolClosedError, type ErrorCode } from 'corral';
import * as nats from 'corral/nats';
import * as worker from 'corral/worker';

/** The codes in the first column of README.md's "### Errors" table. */
function readmeCodes(): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n### Errors\n');
  expect(start).toBeGreaterThan(-1);
  const end = readme.slice(start + 1).search(/\n#{1,3} /);
  const section = readme.slice(start + 1, end === -1 ? undefined : start + 1 + end);
  const codes: string[] = [];
  for (const line of section.split('\n')) {
    const code = /^\| `([A-Z_]+)`/.exec(line)?.[1];
    if (code !== undefined) codes.push(code);
  }
  return codes;
}

describe('the list of codes', () => {
  it('holds each code once', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });

  it("matches README.md's table of errors: every code in it, once, and nothing else", () => {
    const documented = readmeCodes();
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('types `code` as the union of the codes', () => {
    const error = new PoolClosedError();
    expectTypeOf(error.code).toEqualTypeOf<ErrorCode>();
    expectTypeOf<ErrorCode>().toEqualTypeOf<(typeof ERROR_CODES)[number]>();
    // @ts-expect-error: 'ERR_TYPO' is not a code, so comparing with it does not compile.
    expect(error.code === 'ERR_TYPO').toBe(false);
    // @ts-expect-error: nor can an error be made with it.
    expect(new CorralError('ERR_TYPO', 'x').code).toBe('ERR_TYPO');
  });
});

/** Every error class each entry point exports, with arguments to make one and its code. */
const EXPORTED = {
  corral: [
    [corral.CorralError, ['ERR_INTERNAL', 'm'], 'ERR_INTERNAL'],
    [corral.PoolClosedError, [], 'ERR_POOL_CLOSED'],
    [corral.QueueFullError, [1], 'ERR_QUEUE_FULL'],
    [corral.JobTimeoutError, [1], 'ERR_JOB_TIMEOUT'],
    [corral.WorkerCrashedError, ['m'], 'ERR_WORKER_CRASHED'],
    [corral.UnknownTaskError, ['t', []], 'ERR_UNKNOWN_TASK'],
    [corral.ModuleNotFoundError, ['m'], 'ERR_MODULE_NOT_FOUND'],
    [corral.ModuleLoadError, ['m'], 'ERR_MODULE_LOAD'],
    [corral.WorkerInitError, [], 'ERR_WORKER_INIT'],
    [corral.WorkerStartupError, [3], 'ERR_WORKER_STARTUP'],
    [corral.StartupTimeoutError, [1], 'ERR_STARTUP_TIMEOUT'],
    [corral.DataCloneError, ['input'], 'ERR_DATA_CLONE'],
    [corral.InvalidOptionError, ['o', 'e', 1], 'ERR_INVALID_OPTION'],
    [corral.AbortError, ['r'], 'ABORT_ERR'],
    [corral.GroupCompleteError, [1], 'ERR_GROUP_COMPLETE'],
    [corral.GroupClosedError, [1], 'ERR_GROUP_CLOSED'],
    [corral.DuplicateOpIdError, [1], 'ERR_GROUP_DUPLICATE_ID'],
    [corral.QueueDepthError, [1], 'ERR_QUEUE_DEPTH'],
    [corral.QueueWidthError, [1, 1], 'ERR_QUEUE_WIDTH'],
    [corral.QueueClosedError, [], 'ERR_QUEUE_CLOSED'],
    [corral.ResourceNotAcquiredError, [], 'ERR_RESOURCE_NOT_ACQUIRED'],
    [corral.RunnerTimeoutError, [1], 'ERR_RUNNER_TIMEOUT'],
    [corral.RunnerInterruptedError, ['SIGINT'], 'ERR_RUNNER_INTERRUPTED'],
    [corral.RunnerTaskError, [0, 'c'], 'ERR_RUNNER_TASK'],
    [corral.RunnerStartedError, [], 'ERR_RUNNER_STARTED'],
  ],
  'corral/nats': [
    [nats.CampaignAbortedError, ['g', 'r'], 'ABORT_ERR'],
    [nats.GovernorEntryNotFoundError, ['g', 1], 'ERR_GOVERNOR_ENTRY_NOT_FOUND'],
    [nats.GovernorExistsError, ['g', 'x'], 'ERR_GOVERNOR_EXISTS'],
    [nats.GovernorLimitBelowActiveError, ['g', 1, 2], 'ERR_GOVERNOR_LIMIT_BELOW_ACTIVE'],
    [nats.GovernorSlotLostError, ['g', 1, 'why'], 'ERR_GOVERNOR_SLOT_LOST'],
    [nats.NatsConnectError, ['s'], 'ERR_NATS_CONNECT'],
    [nats.NatsReconnectedError, ['s'], 'ERR_NATS_RECONNECTED'],
    [nats.UnknownGovernorError, ['g'], 'ERR_UNKNOWN_GOVERNOR'],
    [nats.HostLostError, [2, 1], 'ERR_HOST_LOST'],
    [nats.PayloadTooLargeError, ['input', 2, 1], 'ERR_PAYLOAD_TOO_LARGE'],
    [nats.QueueConnectionClosedError, [], 'ERR_QUEUE_CONNECTION_CLOSED'],
    [nats.QueueSetupError, ['q'], 'ERR_QUEUE_SETUP'],
    [nats.QueuePublishError, ['q'], 'ERR_QUEUE_PUBLISH'],
    [nats.UnknownQueueError, ['q'], 'ERR_UNKNOWN_QUEUE'],
  ],
  'corral/worker': [[worker.OutsidePoolError, ['f()'], 'ERR_OUTSIDE_POOL']],
} as const;

/** The classes among a module's exports that are `CorralError` or extend it. */
function errorClasses(module: object): string[] {
  return Object.entries(module as Record<string, unknown>)
    .filter(
      ([, value]) =>
        value === corral.CorralError ||
        (typeof value === 'function' && (value.prototype as unknown) instanceof corral.CorralError),
    )
    .map(([name]) => name)
    .sort();
}

describe('the error classes', () => {
  it.each([
    ['corral', corral],
    ['corral/nats', nats],
    ['corral/worker', worker],
  ] as const)('%s exports the same error classes as before', (entry, module) => {
    expect(errorClasses(module)).toEqual(EXPORTED[entry].map(([cls]) => cls.name).sort());
  });

  const all = Object.values(EXPORTED)
    .flat()
    .map(([cls, args, code]) => [cls.name, cls, args, code] as const);
  it.each(all)('%s keeps its name and code', (_, cls, args, code) => {
    const Class = cls as unknown as new (...args: readonly unknown[]) => CorralError;
    const error = new Class(...args);
    expect(error.code).toBe(code);
    expect(ERROR_CODES).toContain(code);
    expect(error).toBeInstanceOf(CorralError);
    expect(error).toBeInstanceOf(Class);
    expect(error.name).toBe(code === 'ABORT_ERR' ? 'AbortError' : cls.name);
  });
});

describe('errors that used to be plain Errors', () => {
  it("rejects acquire() of corral/worker outside a pool's thread with ERR_OUTSIDE_POOL", async () => {
    const error: unknown = await worker.acquire('k').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CorralError);
    expect((error as CorralError).code).toBe('ERR_OUTSIDE_POOL');
  });
});

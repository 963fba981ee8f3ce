/**
 * Bad input never surfaces as a raw TypeError, a Node error or a DOMException: every
 * case is a CorralError with a stable code (issue 12, item 8).
 */
import { describe, expect, it } from 'vitest';
import { CorralError, Pool } from 'corral';
import { fixture, rejection, tasks } from '../helpers/index.js';

/** What `fn` throws synchronously (fails the test if it does not throw). */
function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

function construct(options: Record<string, unknown>): Error & { code?: string } {
  return thrown(() => new Pool(options));
}

describe('execute and wrap check their source', () => {
  it('execute(null) throws ERR_INVALID_OPTION naming the inputs', async () => {
    const pool = new Pool({ module: tasks, threads: 1 });
    const error = thrown(() => pool.execute(null as unknown as number[]));
    expect(error).toBeInstanceOf(CorralError);
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toMatch(/'inputs'.*null/);
    await pool.shutdown();
  });

  it('wrap(42) throws ERR_INVALID_OPTION naming the source and showing the value', async () => {
    const pool = new Pool({ module: tasks, threads: 1 });
    const error = thrown(() => pool.wrap(42 as unknown as number[]));
    expect(error).toBeInstanceOf(CorralError);
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toMatch(/'source'.*number 42/);
    await pool.shutdown();
  });

  it('non-object stream options throw ERR_INVALID_OPTION', async () => {
    const pool = new Pool({ module: tasks, threads: 1 });
    const error = thrown(() => pool.execute([1], 5 as unknown as undefined));
    expect(error).toBeInstanceOf(CorralError);
    expect(error.code).toBe('ERR_INVALID_OPTION');
    await pool.shutdown();
  });
});

describe('pool options the constructor used to accept or pass through raw', () => {
  it("execArgv with a flag Node refuses: ERR_INVALID_OPTION showing the flag, Node's error as cause", () => {
    const error = construct({ module: tasks, threads: 1, execArgv: ['--no-such-flag'] });
    expect(error).toBeInstanceOf(CorralError);
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toMatch(/'execArgv'.*--no-such-flag/);
    expect((error.cause as { code?: string } | undefined)?.code).toBe(
      'ERR_WORKER_INVALID_EXEC_ARGV',
    );
  });

  it('workerData holding a function: ERR_DATA_CLONE from the constructor', () => {
    const error = construct({ module: tasks, threads: 1, workerData: { f: () => 1 } });
    expect(error).toBeInstanceOf(CorralError);
    expect(error.code).toBe('ERR_DATA_CLONE');
    expect(error.message).toMatch(/workerData/);
  });

  const invalid: [string, Record<string, unknown>, RegExp][] = [
    [
      'a resource limit that is not a number',
      { resourceLimits: { maxOldGenerationSizeMb: 'x' } },
      /'resourceLimits.maxOldGenerationSizeMb'.*'x'/,
    ],
    [
      'a negative resource limit',
      { resourceLimits: { maxOldGenerationSizeMb: -1 } },
      /'resourceLimits.maxOldGenerationSizeMb'.*number -1/,
    ],
    [
      'a zero resource limit',
      { resourceLimits: { stackSizeMb: 0 } },
      /'resourceLimits.stackSizeMb'.*number 0/,
    ],
    [
      'an unknown resource limit',
      { resourceLimits: { maxHeapMb: 64 } },
      /'resourceLimits.maxHeapMb'.*number 64/,
    ],
    ['threads: null', { threads: null }, /'threads'.*null/],
    ['maxQueue: null', { maxQueue: null }, /'maxQueue'.*null/],
    ['queueFull: null', { queueFull: null }, /'queueFull'.*null/],
    ['concurrency: null', { concurrency: null }, /'concurrency'.*null/],
    ['maxTries: null', { maxTries: null }, /'maxTries'.*null/],
    ['timeout: null', { timeout: null }, /'timeout'.*null/],
    ['abortGrace: null', { abortGrace: null }, /'abortGrace'.*null/],
    ['defaultTarget: null', { defaultTarget: null }, /'defaultTarget'.*null/],
  ];
  for (const [name, options, message] of invalid) {
    it(`${name}: ERR_INVALID_OPTION`, () => {
      const error = construct({ module: tasks, threads: 1, ...options });
      expect(error).toBeInstanceOf(CorralError);
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toMatch(message);
    });
  }

  it('valid resource limits still start the pool', async () => {
    const pool = new Pool({
      module: tasks,
      threads: 1,
      resourceLimits: { maxOldGenerationSizeMb: 64, stackSizeMb: 4 },
    });
    expect(await pool.do(1)).toBe(2);
    await pool.shutdown();
  });
});

describe('other pool methods check their arguments', () => {
  it('acquire with a signal that is not an AbortSignal rejects with ERR_INVALID_OPTION', async () => {
    const pool = new Pool({ module: tasks, threads: 1 });
    const error = await rejection(pool.acquire('k', { signal: 5 as unknown as AbortSignal }));
    expect(error).toBeInstanceOf(CorralError);
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toMatch(/'signal'/);
    await pool.shutdown();
  });

  it("shutdown with a 'force' that is not a boolean rejects with ERR_INVALID_OPTION", async () => {
    const pool = new Pool({ module: tasks, threads: 1 });
    const error = await rejection(pool.shutdown({ force: 'yes' as unknown as boolean }));
    expect(error).toBeInstanceOf(CorralError);
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toMatch(/'force'.*'yes'/);
    await pool.shutdown();
  });
});

describe('what crosses back from a task', () => {
  it("a result that cannot be cloned arrives as corral's DataCloneError", async () => {
    const pool = new Pool({ module: tasks, threads: 1 });
    const error = await rejection(pool.do(null, { task: 'notCloneable' }));
    expect(error).toBeInstanceOf(CorralError);
    expect(error.code).toBe('ERR_DATA_CLONE');
    expect(error.name).toBe('DataCloneError');
    expect(error.message).toMatch(/result/);
    expect(await pool.do(1)).toBe(2);
    await pool.shutdown();
  });

  it('a thrown object with a function property keeps its message and cloneable properties', async () => {
    const pool = new Pool({ module: fixture('throws-values.mjs'), threads: 1 });
    const error = (await rejection(pool.do(null, { task: 'objectWithFunction' }))) as unknown;
    // What a task throws is passed on as it is (not wrapped), minus what cannot cross threads.
    expect(error).toEqual({
      message: 'the quota is spent',
      code: 'E_QUOTA',
      detail: { used: 10, limit: 10 },
    });
    expect(Object.keys(error as object)).not.toContain('toJSON');
    await pool.shutdown();
  });
});

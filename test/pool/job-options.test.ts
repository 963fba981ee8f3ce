/**
 * Job options are checked like the pool's: an unknown key is refused by name, with its
 * value, for `do`, `execute` and `wrap`, and for a RemotePool's (issue 18, item 3).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { checkRemoteJobOptions } from '#internal/nats/queue/remote-job.js';
import { codeOf, rejection, tasks } from '../helpers/index.js';

/** What the pool's own options say of an unknown key: the shape job options follow. */
function poolMessage(): string {
  try {
    new Pool({ module: tasks, thread: 4 } as never);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the pool to refuse the option');
}

describe('job options', () => {
  const pool = new Pool({ module: tasks, threads: 1 });
  afterAll(() => pool.shutdown());

  it('pool.do refuses an unknown key by name, as the pool options do', async () => {
    expect(poolMessage()).toBe("option 'thread' must be a known option; received number 4");
    const error = await rejection(pool.do(1, { timout: 100 } as never));
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toBe("option 'timout' must be a known option; received number 100");
    const misspelt = await rejection(pool.do(1, { priorty: 5 } as never));
    expect(misspelt.message).toBe("option 'priorty' must be a known option; received number 5");
    expect(await pool.do(1, { timeout: 100 })).toBe(2);
  });

  it('execute and wrap refuse an unknown key, and the job options they do not take', () => {
    for (const run of [pool.execute.bind(pool), pool.wrap.bind(pool)]) {
      expect(codeOf(() => run([1], { timout: 100 } as never))).toBe('ERR_INVALID_OPTION');
      expect(() => run([1], { timout: 100 } as never)).toThrow(
        "option 'timout' must be a known option; received number 100",
      );
      expect(() => run([1], { queueFull: 'reject' } as never)).toThrow(/option 'queueFull'/);
      expect(() => run([1], { dedupe: 'a' } as never)).toThrow(/option 'dedupe'/);
    }
  });

  it('execute and wrap still take their own options and the per-job ones', async () => {
    const outcomes = [];
    for await (const o of pool.execute([1, 2], {
      task: 'default',
      timeout: 1000,
      maxTries: 1,
      ordered: true,
      window: 4,
    }))
      outcomes.push(o.ok ? o.value : o.error);
    expect(outcomes).toEqual([2, 3]);
  });

  it("a RemotePool's job options: a typo is refused as unknown, a local-only option as such", () => {
    expect(() => checkRemoteJobOptions({ timout: 100 })).toThrow(
      "option 'timout' must be a known option; received number 100",
    );
    expect(() => checkRemoteJobOptions({ transfer: [] })).toThrow(
      /option 'transfer' must be an option a RemotePool job takes/,
    );
    expect(checkRemoteJobOptions({ task: 't', timeout: 5 })).toEqual({ task: 't', timeout: 5 });
  });
});

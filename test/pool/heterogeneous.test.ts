import { afterEach, describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { codeOf, fixture, rejection, tasks } from '../helpers/index.js';

let pool: Pool | undefined;
afterEach(async () => {
  await pool?.shutdown({ force: true });
  pool = undefined;
});

const img = fixture('modules-img.mjs');
const text = fixture('modules-text.mjs');

describe('a pool of several modules', () => {
  it('runs tasks of two modules, named module:task, on the same threads', async () => {
    pool = new Pool({ modules: { img, text }, threads: 2 });
    expect(await pool.tasks()).toEqual(['img:inits', 'img:resize', 'text:resize', 'text:upper']);
    const [a, b, c] = await Promise.all([
      pool.do({ w: 10, h: 6 }, { task: 'img:resize' }),
      pool.do('abc', { task: 'text:upper' }),
      pool.do('abcdef', { task: 'text:resize' }),
    ]);
    expect(a).toMatchObject({ w: 5, h: 3 });
    expect(b).toBe('ABC');
    // The same export name in two modules: the prefix picks the module.
    expect(c).toBe('abc');
    const outcomes = [];
    for await (const o of pool.execute(['x', 'y'], { task: 'text:upper' })) outcomes.push(o);
    expect(outcomes.map((o) => (o.ok ? o.value : o.error)).sort()).toEqual(['X', 'Y']);
  });

  it("runs every module's init() on every thread, in the order the modules are given", async () => {
    pool = new Pool({ modules: { text, img }, threads: 2, workerData: { n: 1 } });
    const outcomes = await pool.broadcast(undefined, { task: 'img:inits' });
    expect(outcomes).toHaveLength(2);
    for (const o of outcomes) {
      expect(o.ok).toBe(true);
      const inits = (o as { value: { module: string; threadId: number; data: unknown }[] }).value;
      expect(inits).toEqual([
        { module: 'text', threadId: o.threadId, data: { n: 1 } },
        { module: 'img', threadId: o.threadId, data: { n: 1 } },
      ]);
    }
  });

  it('rejects a task of an unknown module, a bare task name, and an unknown task of a known module', async () => {
    pool = new Pool({ modules: { img, text }, threads: 1 });
    // Refused before any thread has started: the module names are known from the options.
    const early = await rejection(pool.do(1, { task: 'pdf:render' }));
    expect(early.code).toBe('ERR_UNKNOWN_TASK');
    expect(early.message).toMatch(/no module named 'pdf' \(modules: img, text\)/);
    const bare = await rejection(pool.do(1, { task: 'resize' }));
    expect(bare.code).toBe('ERR_UNKNOWN_TASK');
    expect(bare.message).toMatch(/'module:task'/);
    const noDefault = await rejection(pool.do(1));
    expect(noDefault.code).toBe('ERR_UNKNOWN_TASK');
    const unknown = await rejection(pool.do(1, { task: 'img:crop' }));
    expect(unknown.code).toBe('ERR_UNKNOWN_TASK');
    expect(unknown.message).toMatch(/'img:crop'.*img:resize/);
    // The pool still works.
    expect(await pool.do('q', { task: 'text:upper' })).toBe('Q');
  });

  it('fails with ERR_MODULE_LOAD naming the module that failed to load', async () => {
    pool = new Pool({ modules: { img, broken: fixture('load-error.mjs') }, threads: 1 });
    const error = await rejection(pool.ready());
    expect(error.code).toBe('ERR_MODULE_LOAD');
    expect(error.message).toContain('load-error.mjs');
    expect(error.message).toMatch(/module 'broken' failed/); // by its key, not only its URL
  });

  it('fails with ERR_WORKER_INIT naming the module whose init() threw', async () => {
    pool = new Pool({ modules: { img, cfg: fixture('modules-init-throws.mjs') }, threads: 1 });
    const error = await rejection(pool.ready());
    expect(error.code).toBe('ERR_WORKER_INIT');
    expect(error.message).toMatch(/'cfg'/);
    expect((error.cause as Error).message).toBe('no config for this module');
  });

  it('checks the options: module and modules are exclusive, names hold no colon, paths exist', () => {
    expect(codeOf(() => new Pool({ module: tasks, modules: { img } }))).toBe('ERR_INVALID_OPTION');
    expect(() => new Pool({ module: tasks, modules: { img } })).toThrow(/modules/);
    expect(codeOf(() => new Pool({ modules: {} }))).toBe('ERR_INVALID_OPTION');
    expect(codeOf(() => new Pool({ modules: { 'a:b': img } }))).toBe('ERR_INVALID_OPTION');
    expect(() => new Pool({ modules: { 'a:b': img } })).toThrow(/a:b/);
    expect(codeOf(() => new Pool({ modules: { img: '' } }))).toBe('ERR_INVALID_OPTION');
    expect(() => new Pool({ modules: { img: '' } })).toThrow(/modules\.img/);
    expect(codeOf(() => new Pool({ modules: { img: fixture('nope.mjs') } }))).toBe(
      'ERR_MODULE_NOT_FOUND',
    );
    expect(codeOf(() => new Pool({}))).toBe('ERR_INVALID_OPTION');
  });

  it('leaves a pool of one module as it was: bare task names, default task', async () => {
    pool = new Pool({ module: tasks, threads: 1 });
    expect(await pool.do(1)).toBe(2);
    expect((await pool.tasks()).some((t) => t.includes(':'))).toBe(false);
  });
});

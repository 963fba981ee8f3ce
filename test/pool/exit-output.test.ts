/**
 * A process that awaited a task's result and then ends without shutdown() must not exit
 * before what the task wrote to stdout and stderr has reached them (issue 12, item 7).
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/index.js';

const run = promisify(execFile);

const RUNS = 20;
const LINES = 2000;

/** Numbered lines `prefix 0` .. `prefix n-1` missing from `text`. */
function missing(text: string, prefix: string, n: number): number {
  const seen = new Set(text.split('\n').filter((l) => l.startsWith(`${prefix} `)));
  let lost = 0;
  for (let i = 0; i < n; i++) if (!seen.has(`${prefix} ${i}`)) lost++;
  return lost;
}

/** Runs the child `runs` times (two at a time) and describes each run that lost lines. */
async function lossyRuns(runs: number, mode: string): Promise<string[]> {
  const lossy: string[] = [];
  // Two children at a time: enough to finish in bounded time on a small machine.
  for (let i = 0; i < runs; i += 2) {
    const pair = [i, i + 1].map(async (n) => {
      const { stdout, stderr } = await run(
        process.execPath,
        [fixture('exit-after-output.mjs'), String(LINES), mode],
        { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 },
      );
      expect(stdout).toContain(`done ${LINES}`);
      const out = missing(stdout, 'out', LINES);
      const err = missing(stderr, 'err', LINES);
      if (out > 0 || err > 0) lossy.push(`run ${n}: ${out} stdout and ${err} stderr lines lost`);
    });
    await Promise.all(pair);
  }
  return lossy;
}

describe('output written by tasks reaches the process before it exits', () => {
  it(`no line lost in ${RUNS} runs of a ${LINES}-line console.log/console.error task, without shutdown()`, async () => {
    expect(await lossyRuns(RUNS, 'none')).toEqual([]);
  }, 180_000);

  it(`no line lost in ${RUNS / 2} runs with a graceful shutdown() before the end`, async () => {
    expect(await lossyRuns(RUNS / 2, 'shutdown')).toEqual([]);
  }, 120_000);
});

describe('waiting for the output never hangs the process', () => {
  it.each(['thread', 'process'])(
    'exits on its own when the reader of its stdout goes away (EPIPE) with output still in flight (isolation: %s)',
    async (isolation) => {
      const args = [fixture('exit-after-output.mjs'), '20000', 'epipe-ok'];
      // The fixture's 4th argument runs its pool on worker processes.
      if (isolation === 'process') args.push('process');
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      // Like `| head -n 1`: read the first chunk, then close the pipe.
      await once(child.stdout, 'data');
      child.stdout.destroy();
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const [code, signal] = await exited;
      clearTimeout(timer);
      expect(signal).toBe(null);
      expect(code).toBe(0);
    },
    30_000,
  );
});

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CorralError } from '#internal/util/errors.js';
import {
  Runner,
  RunnerInterruptedError,
  RunnerTaskError,
  RunnerTimeoutError,
  type RunnerOptions,
} from '#internal/inflight/index.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGUSR2'] as const;

function listenerCounts(): number[] {
  return SIGNALS.map((s) => process.listenerCount(s));
}

/** A promise and the function that resolves it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Resolves once `fn()` is true, checking after each macrotask (for code that awaits setImmediate). */
async function until(fn: () => boolean): Promise<void> {
  for (let i = 0; !fn(); i++) {
    if (i > 10_000) throw new Error('condition never became true');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('Runner', () => {
  const before = listenerCounts();
  afterEach(() => {
    vi.useRealTimers();
    expect(listenerCounts()).toEqual(before); // no leaked signal listeners, whatever happened
  });

  it('runs tasks in order with their id and a signal, installing signal listeners only while running', async () => {
    const seen: unknown[] = [];
    const runner = new Runner();
    runner.add(
      ({ id, signal }) => {
        seen.push(id, signal.aborted, process.listenerCount('SIGINT') - (before[0] ?? 0));
      },
      async ({ id }) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        seen.push(id);
      },
    );
    runner.add(({ id }) => seen.push(id));
    expect(runner.state).toBe('idle');
    const running = runner.start();
    expect(runner.state).toBe('running');
    expect(listenerCounts()).toEqual([(before[0] ?? 0) + 1, (before[1] ?? 0) + 1, before[2]]);
    await running;
    expect(seen).toEqual([0, false, 1, 1, 2]);
    expect(runner.state).toBe('done');
  });

  it('starts the deadline at start() and rejects with ERR_RUNNER_TIMEOUT when it passes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const runner = new Runner({ timeout: 1_000 });
    vi.advanceTimersByTime(5_000); // time before start() does not count
    const stuck = gate();
    let signal: AbortSignal | undefined;
    let secondRan = false;
    runner.add(
      (context) => {
        signal = context.signal;
        return stuck.promise;
      },
      () => (secondRan = true),
    );
    const outcome = runner.start().catch((error: unknown) => error);
    await until(() => signal !== undefined);
    vi.advanceTimersByTime(999);
    expect(runner.state).toBe('running');
    vi.advanceTimersByTime(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(RunnerTimeoutError);
    expect(error).toMatchObject({ code: 'ERR_RUNNER_TIMEOUT' });
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(error);
    stuck.open(); // the abandoned task finishing later must not start the next one
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(secondRan).toBe(false);
  });

  it('checks the deadline between synchronous tasks', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const ran: number[] = [];
    const runner = new Runner({ timeout: 50 });
    runner.add(
      ({ id }) => {
        ran.push(id);
        vi.advanceTimersByTime(50); // as if this task were slow CPU work
      },
      ({ id }) => ran.push(id),
    );
    await expect(runner.start()).rejects.toMatchObject({ code: 'ERR_RUNNER_TIMEOUT' });
    expect(ran).toEqual([0]);
  });

  it.each([
    ['in the check phase', () => Promise.resolve()],
    // I/O callbacks run in the poll phase; a single setImmediate hop from there would
    // start the next task without passing through the timers phase.
    ['after I/O, in the poll phase', () => readFile(new URL(import.meta.url))],
  ])(
    'sees a deadline that passed during synchronous work %s before the next task (real timers)',
    async (_, before) => {
      const ran: number[] = [];
      const runner = new Runner({ timeout: 50 });
      runner.add(
        async ({ id }) => {
          ran.push(id);
          await before();
          // Synchronous work until well past the deadline. (If the I/O alone outlasts the
          // deadline, the outcome is the same; the test just exercises less.)
          while (Date.now() < started + 80);
        },
        ({ id }) => ran.push(id),
      );
      const started = Date.now();
      await expect(runner.start()).rejects.toMatchObject({ code: 'ERR_RUNNER_TIMEOUT' });
      expect(ran).toEqual([0]);
    },
  );

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'on %s lets the running task finish, starts no other, and rejects with ERR_RUNNER_INTERRUPTED',
    async (name) => {
      const running = gate();
      const ran: number[] = [];
      let signal: AbortSignal | undefined;
      const runner = new Runner();
      runner.add(
        async (context) => {
          ran.push(context.id);
          signal = context.signal;
          await running.promise;
        },
        ({ id }) => ran.push(id),
      );
      const outcome = runner.start().catch((error: unknown) => error);
      await until(() => signal !== undefined);
      process.emit(name, name);
      expect(signal?.aborted).toBe(true);
      expect(runner.state).toBe('running'); // still waiting for the task
      running.open();
      const error = await outcome;
      expect(error).toBeInstanceOf(RunnerInterruptedError);
      expect(error).toMatchObject({ code: 'ERR_RUNNER_INTERRUPTED', signal: name });
      expect(ran).toEqual([0]);
    },
  );

  it('reports the interruption, not the AbortError, when a task stops because of it', async () => {
    const runner = new Runner();
    runner.add(
      ({ signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            reject(new Error('aborted'));
          });
          process.emit('SIGINT', 'SIGINT');
        }),
    );
    await expect(runner.start()).rejects.toMatchObject({ code: 'ERR_RUNNER_INTERRUPTED' });
  });

  it('rejects at once on a second signal when the task ignores the first', async () => {
    const never = gate();
    let started = false;
    const runner = new Runner();
    runner.add(() => {
      started = true;
      return never.promise;
    });
    const outcome = runner.start().catch((error: unknown) => error);
    await until(() => started);
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGTERM', 'SIGTERM');
    expect(await outcome).toMatchObject({ code: 'ERR_RUNNER_INTERRUPTED', signal: 'SIGINT' });
  });

  it('resolves when a signal arrives during the last task and that task completes', async () => {
    const runner = new Runner();
    runner.add(() => {
      process.emit('SIGINT', 'SIGINT');
    });
    await expect(runner.start()).resolves.toBeUndefined();
  });

  it('listens only to the signals it is given', async () => {
    const runner = new Runner({ signals: ['SIGUSR2'] });
    const counts: number[][] = [];
    runner.add(
      () => counts.push(listenerCounts()),
      () => process.emit('SIGINT', 'SIGINT'), // not ours: ignored
      () => process.emit('SIGUSR2', 'SIGUSR2'),
      () => counts.push([-1]),
    );
    await expect(runner.start()).rejects.toMatchObject({ signal: 'SIGUSR2' });
    expect(counts).toEqual([[before[0], before[1], (before[2] ?? 0) + 1]]);
  });

  it('stops at a failing task with ERR_RUNNER_TASK, keeping the cause and the task id', async () => {
    const failure = new Error('step 1 broke');
    const ran: number[] = [];
    const runner = new Runner();
    runner.add(
      ({ id }) => ran.push(id),
      () => Promise.reject(failure),
      ({ id }) => ran.push(id),
    );
    const error = await runner.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunnerTaskError);
    expect(error).toMatchObject({ code: 'ERR_RUNNER_TASK', taskId: 1, cause: failure });
    expect(ran).toEqual([0]);
  });

  it('refuses a second start() and add() after start() with ERR_RUNNER_STARTED', async () => {
    const runner = new Runner();
    await runner.start();
    await expect(runner.start()).rejects.toMatchObject({ code: 'ERR_RUNNER_STARTED' });
    expect(() => runner.add(() => undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_RUNNER_STARTED' }) as Error,
    );
  });

  it.each([
    [{ timeout: 0 }, "option 'timeout' must be a number of milliseconds"],
    [{ timeout: -5 }, 'received number -5'],
    [{ timeout: Number.NaN }, 'received number NaN'],
    [{ timeout: '100' }, "received '100'"],
    [{ timeout: 2 ** 31 }, 'from 1 to 2147483647, or Infinity; received number 2147483648'],
    [{ signals: 'SIGINT' }, "option 'signals' must be an array of signal names; received 'SIGINT'"],
    [{ signals: [''] }, "option 'signals' must be an array of signal names; received an array"],
  ])('rejects options %o, naming the option and the value', (bad, message) => {
    const make = (): Runner => new Runner(bad as unknown as RunnerOptions);
    expect(make).toThrow(message);
    expect(make).toThrow(CorralError);
  });

  describe('with a real SIGINT, in a child process', () => {
    // The child imports the built module: Node 20 cannot run .ts.
    const built = fileURLToPath(new URL('../../dist/src/inflight/runner.js', import.meta.url));

    /** Runs the fixture; in 'parent' mode, sends SIGINT once the child says it is ready. */
    async function runChild(mode: 'parent' | 'self'): Promise<unknown> {
      const fixture = fileURLToPath(new URL('../fixtures/runner-signal.mjs', import.meta.url));
      const child = spawn(process.execPath, [fixture, built, mode], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        if (!stdout.includes('ready') && (stdout + chunk).includes('ready')) child.kill('SIGINT');
        stdout += chunk;
      });
      const [exitCode] = (await once(child, 'exit')) as [number | null];
      expect(exitCode).toBe(0);
      return JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
    }

    it('stops after the running task and removes its listener', async () => {
      expect(await runChild('parent')).toEqual({
        code: 'ERR_RUNNER_INTERRUPTED',
        signal: 'SIGINT',
        ran: [0],
        during: 1,
        after: 0,
      });
    });

    it('sees a signal that arrived during a synchronous task before the next task', async () => {
      expect(await runChild('self')).toEqual({
        code: 'ERR_RUNNER_INTERRUPTED',
        signal: 'SIGINT',
        ran: [0],
        during: 1,
        after: 0,
      });
    });
  });
});

import { setImmediate } from 'node:timers/promises';
import { CorralError } from '../util/errors.js';
import {
  RunnerInterruptedError,
  RunnerStartedError,
  RunnerTaskError,
  RunnerTimeoutError,
} from './errors.js';
import { check, checkArray, isNonEmptyString } from '../util/validate.js';

/** What a task receives. */
export interface TaskContext {
  /** The task's index, in the order tasks were added. */
  readonly id: number;
  /** Aborts, with the run's error as `reason`, when the run stops early (timeout, signal, failed task). */
  readonly signal: AbortSignal;
}

/** One step of a run; may be async. */
export type Task = (context: TaskContext) => unknown;

/** Options for {@link Runner}. */
export interface RunnerOptions {
  /**
   * Milliseconds from `start()` until the run fails with `ERR_RUNNER_TIMEOUT`;
   * `Infinity` for no deadline. At most 2147483647 (what `setTimeout` can wait).
   * @default Infinity
   */
  readonly timeout?: number;
  /**
   * Process signals that interrupt the run. Listeners exist only while it runs.
   * @default ['SIGINT', 'SIGTERM']
   */
  readonly signals?: readonly NodeJS.Signals[];
}

/** Lifecycle: `'idle'` takes tasks, `'running'` after `start()`, `'done'` once it settled. */
export type RunnerState = 'idle' | 'running' | 'done';

const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * Runs tasks one after another under a deadline, and stops between tasks when the
 * process gets SIGINT or SIGTERM (after the runner in *Go in Action*).
 *
 * - The deadline starts at `start()`. When it passes, `start()` rejects at once with
 *   `ERR_RUNNER_TIMEOUT`, the tasks' `signal` aborts, and no further task starts (the
 *   running one is not waited for: JavaScript cannot stop it, only ask via the signal).
 * - On the first signal the tasks' `signal` aborts; the running task is allowed to
 *   finish, no further task starts, and `start()` rejects with `ERR_RUNNER_INTERRUPTED`.
 *   A second signal rejects at once, for tasks that ignore the abort. A signal during
 *   the last task fails the run only if that task then fails: the work got done.
 * - A task that throws stops the run: `start()` rejects with `ERR_RUNNER_TASK`.
 *
 * The runner yields to the event loop between tasks, so a chain of synchronous
 * tasks still sees its deadline and signals between steps.
 *
 * @example
 * ```ts
 * const runner = new Runner({ timeout: 60_000 });
 * runner.add(({ signal }) => download(signal), () => transform(), () => upload());
 * try { await runner.start(); } catch (e) {
 *   if (e instanceof CorralError && e.code === 'ERR_RUNNER_INTERRUPTED') process.exitCode = 130;
 * }
 * ```
 */
export class Runner {
  /** Deadline in ms from `start()`, or `Infinity`. */
  readonly #timeout: number;
  /** Signals that interrupt the run. */
  readonly #signals: readonly NodeJS.Signals[];
  /** Tasks in run order; a task's index is its id. */
  readonly #tasks: Task[] = [];
  /** Where the runner is in its lifecycle. */
  #state: RunnerState = 'idle';

  /**
   * @throws {InvalidOptionError} `ERR_INVALID_OPTION` for a bad `timeout` or `signals`.
   * @example
   * ```ts
   * const runner = new Runner({ timeout: 5_000, signals: ['SIGINT'] });
   * ```
   */
  constructor(options: RunnerOptions = {}) {
    const { timeout = Infinity, signals = ['SIGINT', 'SIGTERM'] satisfies NodeJS.Signals[] } =
      options;
    check(
      typeof timeout === 'number' &&
        timeout > 0 &&
        (timeout <= MAX_TIMEOUT || timeout === Infinity),
      'timeout',
      `a number of milliseconds from 1 to ${MAX_TIMEOUT}, or Infinity`,
      timeout,
    );
    // Its result would be typed `string[]`: keep `signals`, typed `Signals[]`.
    checkArray('signals', signals, isNonEmptyString, 'an array of signal names');
    this.#timeout = timeout;
    this.#signals = [...new Set(signals)];
  }

  /** `'idle'`, `'running'` or `'done'`. */
  get state(): RunnerState {
    return this.#state;
  }

  /**
   * Appends tasks to run, in order.
   *
   * @throws {RunnerStartedError} `ERR_RUNNER_STARTED` after `start()`.
   * @example
   * ```ts
   * runner.add(async ({ id, signal }) => { await step(id, { signal }); });
   * ```
   */
  add(...tasks: Task[]): this {
    if (this.#state !== 'idle') throw new RunnerStartedError();
    this.#tasks.push(...tasks);
    return this;
  }

  /**
   * Runs the tasks; resolves when all have finished. Rejects with `ERR_RUNNER_TIMEOUT`,
   * `ERR_RUNNER_INTERRUPTED`, `ERR_RUNNER_TASK`, or `ERR_RUNNER_STARTED` if called twice.
   * Signal listeners are removed and the deadline timer cleared before it settles.
   *
   * @example
   * ```ts
   * await runner.start();
   * ```
   */
  start(): Promise<void> {
    if (this.#state !== 'idle') return Promise.reject(new RunnerStartedError());
    this.#state = 'running';
    return new Promise<void>((resolve, reject) => {
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      let interrupted: RunnerInterruptedError | undefined;
      let settled = false;
      const finish = (error?: CorralError): void => {
        if (settled) return;
        settled = true;
        this.#state = 'done';
        clearTimeout(timer);
        for (const signal of this.#signals) process.off(signal, onSignal);
        if (error === undefined) resolve();
        else reject(error);
      };
      const stop = (error: CorralError): void => {
        if (!controller.signal.aborted) controller.abort(error);
        finish(error);
      };
      // Read through a call: tasks run between reads, and TS would keep a stale narrowing.
      const interruption = (): RunnerInterruptedError | undefined => interrupted;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (interrupted !== undefined) {
          stop(interrupted);
          return;
        }
        interrupted = new RunnerInterruptedError(signal);
        controller.abort(interrupted);
      };
      for (const signal of this.#signals) process.on(signal, onSignal);
      if (this.#timeout !== Infinity) {
        timer = setTimeout(() => {
          stop(new RunnerTimeoutError(this.#timeout));
        }, this.#timeout);
      }

      const run = async (): Promise<void> => {
        for (const [id, task] of this.#tasks.entries()) {
          await fullTurnOfEventLoop();
          if (settled) return;
          const early = interruption();
          if (early !== undefined) {
            stop(early);
            return;
          }
          try {
            await task({ id, signal: controller.signal });
          } catch (error) {
            // A task that fails because the run was interrupted reports the interruption.
            stop(interruption() ?? new RunnerTaskError(id, error));
            return;
          }
        }
        finish();
      };
      void run();
    });
  }
}

/**
 * Lets a whole event-loop iteration pass, so a deadline that fell due or a signal that
 * arrived during a synchronous task is handled before the next task starts. One
 * `setImmediate` is not enough: queued from the timers or poll phase it runs in the same
 * iteration's check phase, before the loop gets back to timers and poll.
 */
async function fullTurnOfEventLoop(): Promise<void> {
  await setImmediate();
  await setImmediate();
}

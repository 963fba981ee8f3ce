/**
 * `execute` and `wrap` of a `RemotePool`: inputs in, outcomes out, with at most `window`
 * inputs taken from the source and not yet handed to the consumer, wherever in the cluster
 * they are (in the outbox, in the stream, on a host, in a result on its way back).
 *
 * Like the local pool's stream, except when it is left early (`break`) or aborted: a local
 * pool waits for its running jobs, but a client cannot tell a job waiting in the queue from
 * one running on a host, so every unsettled job is given up at once (see the outbox) and
 * the stream ends without waiting for hosts.
 *
 * @module
 */
import {
  AbortError,
  InvalidOptionError,
  type ExecutorStreamOptions,
  type Outcome,
} from '../../index.js';
import { OutcomeBuffer } from '../../pool/outcome-buffer.js';
import { SourcePuller } from '../../pool/source-puller.js';
import type { QueueClient } from './client.js';
import {
  checkInteger,
  checkRemoteJobOptions,
  checkRemoteKey,
  RemoteJob,
  type JobDefaults,
  type RemoteJobOwner,
} from './remote-job.js';

export class RemoteStream<I, R> implements AsyncIterableIterator<Outcome<I, R>>, RemoteJobOwner {
  readonly #client: QueueClient;
  readonly #defaults: JobDefaults;
  readonly #jobOptions: { task?: string; timeout?: number; maxTries?: number };
  readonly #key: ((input: I, index: number) => string | undefined) | undefined;
  readonly #window: number;
  readonly #outcomes: OutcomeBuffer<Outcome<I, R>>;
  readonly #inputs: SourcePuller<I>;
  #taken = 0;
  /** Jobs submitted and not settled. */
  #inFlight = 0;
  /** Outcomes are dropped: the stream was aborted or left. */
  #discard = false;
  #sourceDone = false;
  /** What the output ends with after the outcomes: the source's error or an abort. */
  #error: unknown;
  #failed = false;
  #finished = false;
  readonly #unlisten: (() => void) | undefined;

  constructor(
    client: QueueClient,
    defaults: JobDefaults,
    source: Iterable<I> | AsyncIterable<I>,
    options: ExecutorStreamOptions<I> | undefined,
    defaultWindow: number,
  ) {
    this.#client = client;
    this.#defaults = defaults;
    const { ordered, window, signal, key, ...jobOptions } = options ?? {};
    this.#jobOptions = checkRemoteJobOptions(jobOptions);
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new InvalidOptionError('signal', 'an AbortSignal', signal);
    }
    if (key !== undefined && typeof key !== 'function') {
      throw new InvalidOptionError('key', 'a function of the input and its index', key);
    }
    this.#key = key;
    this.#outcomes = new OutcomeBuffer(ordered === true);
    this.#window = checkInteger('window', window ?? defaultWindow, 1);
    if (Symbol.asyncIterator in source) {
      this.#inputs = this.#puller(source[Symbol.asyncIterator](), false);
    } else if (Symbol.iterator in source) {
      this.#inputs = this.#puller(source[Symbol.iterator](), true);
    } else {
      throw new InvalidOptionError('inputs', 'an iterable or async iterable', source);
    }
    if (signal !== undefined) {
      const onAbort = (): void => {
        this.#stop(new AbortError(signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#unlisten = () => {
        signal.removeEventListener('abort', onAbort);
      };
      if (signal.aborted) onAbort();
    }
    this.#inputs.fill();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Outcome<I, R>>> {
    const outcome = this.#outcomes.shift();
    if (outcome !== undefined) {
      this.#inputs.fill();
      return Promise.resolve({ value: outcome, done: false });
    }
    if (this.#finished || (this.#sourceDone && this.#inFlight === 0)) return this.#end();
    return this.#outcomes.wait();
  }

  /** The consumer stopped early: stop pulling and give up every unsettled job. */
  async return(): Promise<IteratorResult<Outcome<I, R>>> {
    this.#finished = true;
    this.#discard = true;
    this.#unlisten?.();
    this.#outcomes.clear();
    this.#client.abandonOwned(this, new AbortError('the consumer stopped reading'));
    await this.#inputs.close();
    return { value: undefined, done: true };
  }

  settled(job: RemoteJob, ok: boolean, value: unknown): void {
    this.#inFlight--;
    if (this.#discard || this.#finished) {
      this.#wakeIfDone();
      return;
    }
    const input = job.input as I;
    const outcome: Outcome<I, R> = ok
      ? { index: job.index, input, ok: true, value: value as R }
      : { index: job.index, input, ok: false, error: value };
    this.#outcomes.add(outcome);
    this.#wakeIfDone();
    this.#inputs.fill();
  }

  #end(): Promise<IteratorResult<Outcome<I, R>>> {
    this.#finished = true;
    this.#unlisten?.();
    if (this.#failed) {
      this.#failed = false;
      // Whatever the source threw is passed on as it is, Error or not.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(this.#error);
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Stops taking inputs; the output ends with `error` once in-flight jobs settle. */
  #stop(error: unknown): void {
    if (this.#finished || this.#failed) return;
    this.#failed = true;
    this.#error = error;
    this.#sourceDone = true;
    void this.#inputs.close();
    if (error instanceof AbortError) {
      this.#outcomes.clear();
      this.#discard = true; // the jobs given up now yield nothing: the output ends with the abort
      this.#client.abandonOwned(this, error);
    }
    this.#wakeIfDone();
  }

  #wakeIfDone(): void {
    if (!this.#outcomes.waiting || !this.#sourceDone) return;
    if (this.#inFlight > 0 || this.#outcomes.ready > 0) return;
    this.#outcomes.end(this.#end());
  }

  #puller(source: Iterator<I> | AsyncIterator<I>, sync: boolean): SourcePuller<I> {
    return new SourcePuller(source, sync, {
      room: () => !this.#sourceDone && !this.#finished && this.#held() < this.#window,
      take: (r) => {
        this.#take(r);
      },
      stop: (error) => {
        this.#stop(error);
      },
    });
  }

  /** Inputs taken and not yet handed to the consumer. */
  #held(): number {
    return this.#inFlight + this.#outcomes.held;
  }

  #take(r: IteratorResult<I>): void {
    if (this.#finished) return;
    if (r.done === true) {
      this.#sourceDone = true;
      this.#wakeIfDone();
      return;
    }
    const input = r.value;
    const job = new RemoteJob(this.#client.nextId(), input, this.#jobOptions, this.#defaults);
    job.index = this.#taken++;
    job.owner = this;
    this.#inFlight++;
    if (this.#key !== undefined) {
      try {
        const key = this.#key(input, job.index);
        job.key = key === undefined ? undefined : checkRemoteKey(key);
      } catch (error) {
        job.settle(false, error); // this input's outcome, not the stream's end
        return;
      }
    }
    this.#client.submit(job);
  }
}

/**
 * Coalescing of identical in-flight jobs (`pool.do(input, { dedupe: id })`): jobs with
 * the same id that are queued or running share one execution, and every caller gets its
 * result or error. A caller that aborts leaves; the shared job is cancelled only when
 * no caller is left waiting for it. Once it settles, the id is free again.
 */
import { AbortError } from '../util/errors.js';
import { abortable } from '../util/abort.js';

/** One execution shared by its callers. */
interface Shared {
  promise: Promise<unknown>;
  /** Callers still waiting. */
  callers: number;
  /** Cancels the execution when the last caller leaves. */
  controller: AbortController;
}

export class Coalescer {
  /** Executions in flight, by dedupe id. */
  readonly #inFlight = new Map<string, Shared>();

  /** Joins the execution of `id`, starting it with `start` if none is in flight. */
  run(
    id: string,
    start: (signal: AbortSignal) => Promise<unknown>,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    if (signal?.aborted === true) return Promise.reject(new AbortError(signal.reason));
    let shared = this.#inFlight.get(id);
    if (shared === undefined) {
      const controller = new AbortController();
      const created: Shared = { promise: start(controller.signal), callers: 0, controller };
      const forget = (): void => {
        if (this.#inFlight.get(id) === created) this.#inFlight.delete(id);
      };
      created.promise.then(forget, forget);
      this.#inFlight.set(id, created);
      shared = created;
    }
    shared.callers++;
    if (signal === undefined) return shared.promise;
    const joined = shared;
    return abortable(signal, (resolve, reject) => {
      joined.promise.then(resolve, reject);
      return () => {
        if (--joined.callers === 0) {
          // Nobody waits for it any more: a caller arriving now starts afresh.
          if (this.#inFlight.get(id) === joined) this.#inFlight.delete(id);
          joined.controller.abort(signal.reason);
        }
      };
    });
  }
}

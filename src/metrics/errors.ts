/**
 * The errors of `corral/metrics`. Loads without `prom-client`, so that `./entry.ts` can say
 * it is missing.
 *
 * @module
 */
import { CorralError } from '../util/errors.js';

/** `prom-client` is not installed (it is an optional peer dependency of corral). */
export class PromClientMissingError extends CorralError {
  constructor(options?: ErrorOptions) {
    super(
      'ERR_PROM_CLIENT_MISSING',
      'corral/metrics needs prom-client, which is not installed: npm install prom-client',
      options,
    );
  }
}

/** Whether `error` says the `prom-client` package could not be found. */
export function isPromClientMissing(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND' &&
    error.message.includes("'prom-client'")
  );
}

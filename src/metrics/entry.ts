/**
 * What `import 'corral/metrics'` runs (its types are those of `./index.ts`). As in
 * `corral/nats` (see src/nats/entry.ts): `prom-client` is an optional peer dependency, and a
 * static import of it would fail to link with Node's own `ERR_MODULE_NOT_FOUND` before
 * corral could name the package; loading `./index.js` dynamically lets it throw
 * `ERR_PROM_CLIENT_MISSING`.
 *
 * @module
 */
import { isPromClientMissing, PromClientMissingError } from './errors.js';

export { PromClientMissingError } from './errors.js';
export { JOB_SECONDS_BUCKETS } from './tally.js';

const metrics = await import('./index.js').catch((error: unknown) => {
  throw isPromClientMissing(error) ? new PromClientMissingError({ cause: error }) : error;
});

export const { registerMetrics, serveMetrics } = metrics;

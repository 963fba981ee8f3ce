/**
 * What `import 'corral/nats'` runs (its types are those of `./index.ts`).
 *
 * ESM links a module's whole static import graph before it runs any of it, so with the
 * optional NATS packages missing, importing `./index.js` directly fails with Node's own
 * `ERR_MODULE_NOT_FOUND` before a line of corral has run, and no guard inside that graph
 * can say more. Loading it dynamically from here lets corral name the packages to install
 * (`ERR_NATS_CLIENT_MISSING`).
 *
 * Only the values that need the NATS client are loaded so; the rest (`./client-free.ts`)
 * are re-exported statically. The names below must be the value exports of `./index.ts`
 * that `./client-free.ts` does not have; test/cli/package-install.test.ts checks that
 * `corral/nats` and `./index.ts` export the same names.
 *
 * @module
 */
import { isNatsClientMissing, NatsClientMissingError } from './shared/errors.js';

export * from './client-free.js';

const nats = await import('./index.js').catch((error: unknown) => {
  throw isNatsClientMissing(error) ? new NatsClientMissingError({ cause: error }) : error;
});

export const { Governor, GovernorManager, RemotePool, serve, Host, queueInfo } = nats;

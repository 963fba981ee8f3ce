/**
 * What `import 'corral/nats'` runs (its types are those of `./index.ts`).
 *
 * ESM links a module's whole static import graph before it runs any of it, so with the
 * optional NATS packages missing, importing `./index.js` directly fails with Node's own
 * `ERR_MODULE_NOT_FOUND` before a line of corral has run, and no guard inside that graph
 * can say more. Loading it dynamically from here lets corral name the packages to install
 * (`ERR_NATS_CLIENT_MISSING`).
 *
 * The names below must be the value exports of `./index.ts`; test/package-install.test.ts
 * checks that they are.
 *
 * @module
 */
import { isNatsClientMissing, NatsClientMissingError } from './errors.js';

const nats = await import('./index.js').catch((error: unknown) => {
  throw isNatsClientMissing(error) ? new NatsClientMissingError({ cause: error }) : error;
});

export const {
  runInSlot,
  CampaignAbortedError,
  GovernorEntryNotFoundError,
  GovernorExistsError,
  GovernorLimitBelowActiveError,
  GovernorSlotLostError,
  NatsConnectError,
  NatsReconnectedError,
  UnknownGovernorError,
  Governor,
  GovernorManager,
  RemotePool,
  serve,
  Host,
  queueInfo,
  HostLostError,
  PayloadTooLargeError,
  QueueConnectionClosedError,
  QueueSetupError,
  UnknownQueueError,
} = nats;

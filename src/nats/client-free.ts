/**
 * The values of `corral/nats` that load without the optional NATS packages: the error
 * classes and `runInSlot`. `./index.ts` re-exports this module whole, and `./entry.ts`
 * re-exports it statically, so these names are written only here; the values that need the
 * NATS client are loaded by `./entry.ts` dynamically.
 *
 * Nothing imported here may reach `@nats-io/*`: ESM would fail to link `corral/nats` with
 * Node's `ERR_MODULE_NOT_FOUND` before `./entry.ts` could name the missing packages.
 *
 * @module
 */
export {
  runInSlot,
  type ConcurrencyGovernor,
  type RunOptions,
  type Slot,
  type StartOptions,
} from '../governor/governor.js';
export {
  CampaignAbortedError,
  GovernorEntryNotFoundError,
  GovernorExistsError,
  GovernorLimitBelowActiveError,
  GovernorSlotLostError,
  UnknownGovernorError,
} from './governor/errors.js';
export { NatsConnectError, NatsReconnectedError } from './shared/errors.js';
export {
  HostLostError,
  PayloadTooLargeError,
  QueueConnectionClosedError,
  QueuePublishError,
  QueueSetupError,
  UnknownQueueError,
} from './queue/errors.js';

/**
 * Two copies of corral in one process (two installed versions, or source beside build):
 * errors and transferred results made by one copy are recognised by the other, through
 * `Symbol.for` brands rather than by prototype identity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as corral from 'corral';
import * as nats from 'corral/nats';
import * as worker from 'corral/worker';
import { fixture } from '../helpers/index.js';
import { secondCopy, type SecondCopy } from '../helpers/second-copy.js';

let copy: SecondCopy;
let other: typeof corral;
let otherNats: typeof nats;
let otherWorker: typeof worker;

beforeAll(async () => {
  copy = secondCopy();
  other = (await import(copy.url('src/index.js'))) as typeof corral;
  otherNats = (await import(copy.url('src/nats/index.js'))) as typeof nats;
  otherWorker = (await import(copy.url('workers/index.js'))) as typeof worker;
});

afterAll(() => {
  copy.remove();
});

describe('instanceof across two copies', () => {
  it('loads a copy with classes of its own (else these tests would prove nothing)', () => {
    expect(other.CorralError).not.toBe(corral.CorralError);
    expect(other.PoolClosedError).not.toBe(corral.PoolClosedError);
    expect(otherNats.CampaignAbortedError).not.toBe(nats.CampaignAbortedError);
    expect(otherWorker.Transfer).not.toBe(worker.Transfer);
  });

  it('holds for the base class, both ways', () => {
    expect(new other.PoolClosedError()).toBeInstanceOf(corral.CorralError);
    expect(new corral.PoolClosedError()).toBeInstanceOf(other.CorralError);
    expect(new other.CorralError('ERR_INTERNAL', 'm')).toBeInstanceOf(corral.CorralError);
  });

  it('holds for the same subclass, both ways', () => {
    expect(new other.PoolClosedError()).toBeInstanceOf(corral.PoolClosedError);
    expect(new corral.PoolClosedError()).toBeInstanceOf(other.PoolClosedError);
    expect(new other.RunnerTimeoutError(1)).toBeInstanceOf(corral.RunnerTimeoutError);
    expect(new otherNats.GovernorSlotLostError('g', 1, 'why')).toBeInstanceOf(
      nats.GovernorSlotLostError,
    );
  });

  it('holds for a class the error extends, two levels up', () => {
    const campaign = new otherNats.CampaignAbortedError('g', 'r');
    expect(campaign).toBeInstanceOf(nats.CampaignAbortedError);
    expect(campaign).toBeInstanceOf(corral.AbortError);
    expect(campaign).toBeInstanceOf(corral.CorralError);
  });

  it('does not hold for another subclass, nor for a subclass of the class', () => {
    const closed = new other.PoolClosedError();
    expect(closed instanceof corral.QueueFullError).toBe(false);
    expect(closed instanceof corral.AbortError).toBe(false);
    // Same code and name as CampaignAbortedError's parent, but not a campaign.
    expect(new other.AbortError('r') instanceof nats.CampaignAbortedError).toBe(false);
    expect(new corral.AbortError('r') instanceof nats.CampaignAbortedError).toBe(false);
    class Mine extends corral.PoolClosedError {}
    expect(new Mine()).toBeInstanceOf(other.PoolClosedError);
    expect(new other.PoolClosedError() instanceof Mine).toBe(false);
  });

  it('does not hold for look-alikes without the brand', () => {
    const fake = Object.assign(new Error('x'), {
      name: 'PoolClosedError',
      code: 'ERR_POOL_CLOSED',
    });
    expect(fake instanceof corral.CorralError).toBe(false);
    expect(fake instanceof corral.PoolClosedError).toBe(false);
    expect((null as unknown) instanceof corral.CorralError).toBe(false);
    expect(('ERR_POOL_CLOSED' as unknown) instanceof corral.CorralError).toBe(false);
  });

  it('holds for a Transfer made by the other copy', () => {
    expect(otherWorker.transfer({ n: 1 }, [])).toBeInstanceOf(worker.Transfer);
    expect({ value: 1, list: [] } instanceof worker.Transfer).toBe(false);
  });
});

describe('a task that marks its result with another copy of corral/worker', () => {
  it('has the result transferred: the caller gets the value, not the wrapper', async () => {
    const pool = new corral.Pool({
      module: fixture('other-copy-transfer.mjs'),
      threads: 1,
      workerData: copy.url('workers/index.js'),
    });
    try {
      const result: unknown = await pool.do(4);
      expect(result).toBeInstanceOf(Uint8Array);
      expect([...(result as Uint8Array)]).toEqual([7, 7, 7, 7]);
    } finally {
      await pool.shutdown({ force: true });
    }
  });
});

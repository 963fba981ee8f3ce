import * as corral from 'corral';
import * as inflight from 'corral/inflight';
import { expect, it } from 'vitest';

it('corral/inflight exports the in-flight primitives, the same objects as the root', () => {
  for (const name of ['CallGroup', 'OpQueue', 'ResourcePool', 'Runner'] as const) {
    expect(typeof inflight[name]).toBe('function');
    expect(inflight[name]).toBe(corral[name]);
  }
});

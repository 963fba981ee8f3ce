import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { holderName } from '#internal/util/holder-name.js';

describe('holderName', () => {
  it('names this process as host:pid', () => {
    expect(holderName()).toBe(`${hostname()}:${process.pid}`);
  });
});

import { describe, expectTypeOf, it } from 'vitest';
import { Pool } from 'corral';

declare const pool: Pool;

describe('the types of pool events', () => {
  it("threadCrash's error is an Error", () => {
    pool.on('threadCrash', ({ threadId, error }) => {
      expectTypeOf(threadId).toEqualTypeOf<number>();
      expectTypeOf(error).toEqualTypeOf<Error>();
    });
  });
});

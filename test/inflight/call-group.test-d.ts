import { describe, expectTypeOf, it } from 'vitest';
import { CallGroup, type CallOutcome, type CallResults, type Op } from 'corral';

type Id = `job-${number}`;

describe('CallGroup types', () => {
  it('carries the message, result and id types through ops and results', () => {
    const group = new CallGroup<{ url: string }, Uint8Array, Id>();
    const op = group.add('job-1', { url: 'x' });
    expectTypeOf(op).toEqualTypeOf<Op<{ url: string }, Uint8Array, Id>>();
    expectTypeOf(op.msg).toEqualTypeOf<{ url: string }>();
    expectTypeOf(op.id).toEqualTypeOf<Id>();
    expectTypeOf(group.done).resolves.toEqualTypeOf<
      Map<Id, CallOutcome<{ url: string }, Uint8Array, Id>>
    >();
    expectTypeOf(group.done).resolves.toEqualTypeOf<CallResults<{ url: string }, Uint8Array, Id>>();
  });

  it('narrows an outcome by ok', () => {
    const outcome = {} as CallOutcome<string, number>;
    if (outcome.ok) expectTypeOf(outcome.result).toEqualTypeOf<number>();
    else expectTypeOf(outcome.error).toEqualTypeOf<unknown>();
    expectTypeOf(outcome.op.msg).toEqualTypeOf<string>();
  });

  it('rejects an id, a message or a result of the wrong type', () => {
    const group = new CallGroup<{ url: string }, Uint8Array, Id>();
    // @ts-expect-error the id must match `job-${number}`
    group.add('task-1', { url: 'x' });
    // @ts-expect-error the message must be { url: string }
    group.add('job-2', { path: 'x' });
    // @ts-expect-error the result must be a Uint8Array
    group.add('job-3', { url: 'x' }).finish(null, 'text');
    expectTypeOf<Op<{ url: string }, Uint8Array, Id>['finish']>()
      .parameter(1)
      .toEqualTypeOf<Uint8Array | undefined>();
  });
});

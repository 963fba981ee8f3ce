/**
 * How many job messages a host asks for, on its own (no server): a fake consumer whose pull
 * requests stay open. Uses the built internals.
 */
import type { Consumer } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { Claimer } from '#internal/nats/queue/claimer.js';

/** A consumer whose pull requests bring nothing and stay open until the test ends them. */
function openConsumer() {
  const asked: number[] = [];
  const ends: (() => void)[] = [];
  const consumer = {
    fetch: (options: { max_messages: number }) => {
      asked.push(options.max_messages);
      const ended = new Promise<void>((resolve) => ends.push(resolve));
      return Promise.resolve({
        [Symbol.asyncIterator]: () => ({
          next: async () => {
            await ended;
            return { done: true, value: undefined };
          },
        }),
      });
    },
  } as unknown as Consumer;
  const end = () => {
    for (const resolve of ends) resolve();
  };
  return { consumer, asked, end };
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('Claimer', () => {
  it("asks for enough messages to fill the host's slots and its lookahead, plus one", async () => {
    const { consumer, asked, end } = openConsumer();
    let ahead = 0;
    const claimer = new Claimer(
      consumer,
      1,
      () => undefined,
      () => undefined,
      () => ahead,
    );
    await turn();
    // One slot, messages of one job so far: one to run and one spare.
    expect(asked).toEqual([2]);
    // Messages of 256 tiny jobs come (held, then done), and the host queues up to 512 jobs
    // ahead of its slot: one message running, two in the lookahead, one spare.
    for (let seq = 1; seq <= 40; seq++) {
      claimer.holding(seq, 256);
      claimer.released(seq);
    }
    ahead = 512;
    claimer.released(0);
    claimer.holding(41, 256);
    claimer.finished(41);
    await turn();
    expect(asked.reduce((a, b) => a + b, 0)).toBe(Math.ceil((1 + 512) / 256) + 1);
    end();
    await claimer.stop();
  });
});

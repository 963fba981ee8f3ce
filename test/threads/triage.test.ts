import { describe, expect, it } from 'vitest';
import {
  crashVerdict,
  phaseOf,
  refundsTry,
  retriesAfterTimeout,
  runsAgain,
  type Phase,
  type Verdict,
} from '#internal/threads/triage.js';

describe('crash triage', () => {
  it('places a job by its sequence number against the two counters', () => {
    // Started up to 7; every job up to 5 finished: 6 and 7 were running, 8 never started.
    expect([4, 5, 6, 7, 8, 9].map((seq) => phaseOf(seq, 7, 5))).toEqual<Phase[]>([
      'finished',
      'finished',
      'running',
      'running',
      'unstarted',
      'unstarted',
    ]);
    // A thread that never started a job: everything is unstarted.
    expect(phaseOf(1, 0, 0)).toBe('unstarted');
  });

  it.each<[Phase, number, number, Verdict]>([
    ['unstarted', 1, 1, 'requeue'],
    ['unstarted', 3, 3, 'requeue'],
    ['finished', 1, 1, 'lost'],
    ['finished', 1, 2, 'rerun'],
    ['finished', 2, 2, 'rerun'],
    ['running', 1, 1, 'crashed'],
    ['running', 1, 3, 'retry'],
    ['running', 3, 3, 'crashed'],
  ])('a %s job on try %i of %i: %s', (phase, tries, maxTries, verdict) => {
    expect(crashVerdict(phase, tries, maxTries)).toBe(verdict);
  });

  it.each<[Phase, number, number, Verdict]>([
    // The pool terminated the thread (another job's timeout, an abort past abortGrace):
    // a finished job whose result was lost runs again, uncharged, even with maxTries 1.
    ['finished', 1, 1, 'rerun'],
    ['finished', 2, 2, 'rerun'],
    // The other rules are the same whoever ended the thread.
    ['unstarted', 1, 1, 'requeue'],
    ['running', 1, 1, 'crashed'],
    ['running', 1, 2, 'retry'],
  ])(
    'when the pool killed the thread, a %s job on try %i of %i: %s',
    (phase, tries, maxTries, verdict) => {
      expect(crashVerdict(phase, tries, maxTries, true)).toBe(verdict);
    },
  );

  it('runs a finished job with maxTries 1 again only when the pool killed its thread', () => {
    expect(crashVerdict('finished', 1, 1, false)).toBe('lost');
    expect(crashVerdict('finished', 1, 1, true)).toBe('rerun');
    expect(refundsTry(crashVerdict('finished', 1, 1, true))).toBe(true);
  });

  it('charges a try only for a job cut off while running', () => {
    expect(refundsTry('requeue')).toBe(true);
    expect(refundsTry('rerun')).toBe(true);
    expect(refundsTry('retry')).toBe(false);
    expect(runsAgain('retry')).toBe(true);
    expect(runsAgain('lost')).toBe(false);
    expect(runsAgain('crashed')).toBe(false);
  });

  it('retries a timed-out job only while it has tries left', () => {
    expect(retriesAfterTimeout(1, 1)).toBe(false);
    expect(retriesAfterTimeout(1, 2)).toBe(true);
    expect(retriesAfterTimeout(2, 2)).toBe(false);
  });
});

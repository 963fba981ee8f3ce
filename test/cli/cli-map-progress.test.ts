/**
 * `corral map`'s report: the progress bar it draws on a terminal, and the summary line.
 * The bar is only drawn on a TTY, which a test's child process never has: the reporter
 * is tested on its own, with a stream that says it is one.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Progress, summaryLine } from '#internal/cli/progress.js';

/** A fake terminal that keeps what is written to it. */
class FakeTerminal extends Writable {
  readonly isTTY = true;
  readonly columns = 120;
  text = '';

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe('Progress', () => {
  it('draws done/total, percentage, rate, ETA and failures on a terminal, and logs above the bar', () => {
    const terminal = new FakeTerminal();
    const progress = new Progress(terminal);
    expect(progress.drawing).toBe(true);
    progress.setTotal(10);
    for (let i = 0; i < 4; i++) progress.tick(false);
    progress.tick(true);
    expect(progress.log('{"line":5}\n')).toBe(true);
    const tally = progress.stop(); // draws a last frame, with the logged line, then clears it
    expect(terminal.text).toMatch(/ 50% 5\/10 \| \d+ records\/s \| \d+s \| 1 failed \| ETA \d+s/);
    expect(terminal.text).toContain('{"line":5}\n');
    expect(tally).toMatchObject({ records: 5, failed: 1 });
  });

  it('shows a count without a bar while the total is unknown', () => {
    const terminal = new FakeTerminal();
    const progress = new Progress(terminal);
    progress.tick(false);
    progress.tick(false, false); // a skipped line: done, but not a record
    expect(progress.stop()).toMatchObject({ records: 1, failed: 0 });
    expect(terminal.text).toMatch(/2 records \| \d+ records\/s \| \d+s \| 0 failed/);
  });

  it('draws nothing when the stream is not a terminal', () => {
    const stream = new FakeTerminal();
    Object.defineProperty(stream, 'isTTY', { value: false });
    const progress = new Progress(stream);
    progress.tick(false);
    expect(progress.drawing).toBe(false);
    expect(progress.log('x\n')).toBe(false);
    progress.stop();
    expect(stream.text).toBe('');
  });
});

describe('summaryLine', () => {
  it('says records, failures, wall time and rate', () => {
    expect(summaryLine({ records: 20000, failed: 0, seconds: 3.21 })).toBe(
      'corral map: 20000 records, 0 failed, 3.21 s, 6231 records/s',
    );
    expect(summaryLine({ records: 0, failed: 0, seconds: 0 })).toBe(
      'corral map: 0 records, 0 failed, 0.00 s, 0 records/s',
    );
  });

  it('says "1 record", not "1 records"', () => {
    expect(summaryLine({ records: 1, failed: 0, seconds: 1 })).toBe(
      'corral map: 1 record, 0 failed, 1.00 s, 1 records/s',
    );
  });

  it('says when a signal stopped the run', () => {
    expect(summaryLine({ records: 7, failed: 1, seconds: 1 }, 'SIGINT')).toBe(
      'corral map: interrupted by SIGINT, 7 records, 1 failed, 1.00 s, 7 records/s',
    );
  });
});

/**
 * `corral map`'s report on stderr: a live progress bar when stderr is a terminal, and a
 * one-line summary at the end in every case.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';

/** What a run did, for the summary line. */
export interface Tally {
  /** Records read (results written plus failures; blank JSON lines are not records). */
  readonly records: number;
  /** Records that failed: malformed lines, task errors, results that are not JSON. */
  readonly failed: number;
  /** Wall time of the run, from the first read to the last write, in seconds. */
  readonly seconds: number;
}

/**
 * The summary line, e.g. `corral map: 20000 records, 0 failed, 3.21 s, 6230 records/s`.
 * An interrupted run says so up front.
 */
export function summaryLine(tally: Tally, interrupted?: NodeJS.Signals): string {
  const rate = tally.seconds > 0 ? Math.round(tally.records / tally.seconds) : 0;
  const stopped = interrupted === undefined ? '' : ` interrupted by ${interrupted},`;
  return (
    `corral map:${stopped} ${records(tally.records)}, ${tally.failed} failed, ` +
    `${tally.seconds.toFixed(2)} s, ${rate} records/s`
  );
}

/** `1 record`, `2 records`. */
function records(n: number): string {
  return n === 1 ? '1 record' : `${n} records`;
}

const BAR_WIDTH = 30;

/** `12s`, `3m04s`, `1h02m`. */
function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

/**
 * Counts lines done and failures, and draws them on a terminal. Lines, not records,
 * because the total (counted from the file) is in lines; blank ones are done when read.
 *
 * @example
 * ```ts
 * const progress = new Progress(process.stderr);
 * progress.setTotal(20_000);
 * progress.tick(false);
 * const tally = progress.stop(); // then print summaryLine(tally)
 * ```
 */
export class Progress {
  /** Lines read and finished with (records written or failed, blank lines skipped). */
  #done = 0;
  /** Records so far. */
  #records = 0;
  /** Failed records so far. */
  #failed = 0;
  /** Lines in the input, once counted; undefined while unknown (stdin, or counting). */
  #total: number | undefined;
  /** `performance.now()` at construction. */
  readonly #start = performance.now();
  /** Wall time, frozen by {@link Progress.stop}. */
  #seconds: number | undefined;
  /** The bar, when drawing on a terminal. */
  readonly #bars: cliProgress.MultiBar | undefined;

  /** Draws a bar on `stream` if it is a terminal; otherwise only counts. */
  constructor(stream: Writable & { isTTY?: boolean }) {
    if (stream.isTTY !== true) return;
    this.#bars = new cliProgress.MultiBar({
      stream,
      fps: 8,
      hideCursor: true,
      clearOnComplete: true,
      format: () => this.#render(),
    });
    this.#bars.create(0, 0);
  }

  /** Sets the number of lines in the input, once known. */
  setTotal(lines: number): void {
    this.#total = lines;
  }

  /** One line done: a record (failed or not), or a skipped line when `record` is false. */
  tick(failed: boolean, record = true): void {
    this.#done++;
    if (record) this.#records++;
    if (failed) this.#failed++;
  }

  /**
   * Writes text on the terminal above the bar (it must end with a newline), or returns
   * false when there is no bar and the caller should write it itself.
   */
  log(text: string): boolean {
    if (this.#bars === undefined) return false;
    this.#bars.log(text);
    return true;
  }

  /** Whether a bar is being drawn. */
  get drawing(): boolean {
    return this.#bars !== undefined;
  }

  /** Removes the bar and returns the final counts; the wall time stops here. */
  stop(): Tally {
    this.#seconds ??= (performance.now() - this.#start) / 1000;
    // stop() alone would drop lines logged since the last frame: draw one more first.
    this.#bars?.update();
    this.#bars?.stop();
    return { records: this.#records, failed: this.#failed, seconds: this.#seconds };
  }

  /** One frame: `[=====-----]  42% 8400/20000 | 6230/s | ETA 2s | 0 failed` (no bar without a total). */
  #render(): string {
    const elapsed = (performance.now() - this.#start) / 1000;
    const rate = elapsed > 0 ? this.#done / elapsed : 0;
    const tail = `${Math.round(rate)} records/s | ${clock(elapsed)} | ${this.#failed} failed`;
    const total = this.#total;
    if (total === undefined || total === 0) return `${records(this.#done)} | ${tail}`;
    const share = Math.min(1, this.#done / total);
    const filled = Math.round(share * BAR_WIDTH);
    const bar = '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled);
    const eta = rate > 0 ? clock((total - this.#done) / rate) : '?';
    const percent = `${Math.floor(share * 100)}%`.padStart(4);
    return `${bar} ${percent} ${this.#done}/${total} | ${tail} | ETA ${eta}`;
  }
}

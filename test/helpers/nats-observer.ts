/**
 * The outside observer of the process tests: separate OS processes append `<hrtime> +1` when
 * they start holding a slot and `<hrtime> -1` when they stop, to one append-only log. The
 * server's own count is not evidence; this log is. `process.hrtime` is the system's monotonic
 * clock, so lines from different processes on one machine compare.
 */

/** One line of the log. */
export interface LogEvent {
  /** Nanoseconds, monotonic. */
  readonly time: bigint;
  readonly delta: 1 | -1;
}

/** Parses the log, in time order; `+1` before `-1` on equal times, so ties count as overlap. */
export function parseLog(log: string): LogEvent[] {
  return log
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line): LogEvent => {
      const [time = '', delta = ''] = line.trim().split(' ');
      if (delta !== '+1' && delta !== '-1') throw new Error(`bad log line: ${line}`);
      return { time: BigInt(time), delta: delta === '+1' ? 1 : -1 };
    })
    .sort((a, b) => (a.time === b.time ? b.delta - a.delta : a.time < b.time ? -1 : 1));
}

/** The most holders at once according to the log, and how many entered and left. */
export function maxConcurrent(log: string): { max: number; enters: number; leaves: number } {
  const events = parseLog(log);
  let held = 0;
  let max = 0;
  for (const { delta } of events) {
    held += delta;
    max = Math.max(max, held);
  }
  return {
    max,
    enters: events.filter((e) => e.delta === 1).length,
    leaves: events.filter((e) => e.delta === -1).length,
  };
}

/** The most starts (`+1` lines) within any window of `windowMs`, both ends included. */
export function maxStartsPerWindow(log: string, windowMs: number): number {
  const starts = parseLog(log)
    .filter((e) => e.delta === 1)
    .map((e) => e.time);
  const window = BigInt(Math.round(windowMs * 1e6));
  let max = 0;
  let first = 0;
  for (let last = 0; last < starts.length; last++) {
    while ((starts[last] ?? 0n) - (starts[first] ?? 0n) > window) first++;
    max = Math.max(max, last - first + 1);
  }
  return max;
}

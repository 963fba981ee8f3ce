/**
 * Human durations, as the CLI reads and prints them: `500ms`, `30s`, `5m`, `1h`, `2d`, and
 * sums like `1h30m`. Always with a unit: a bare `30` could mean seconds or milliseconds.
 *
 * @module
 */

const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/**
 * Milliseconds in a duration such as `30s`, `1.5m` or `1h30m`.
 *
 * @throws {RangeError} the text is not such a duration, or is zero.
 * @example
 * ```ts
 * parseDuration('1h30m'); // 5_400_000
 * ```
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < trimmed.length) {
    const at = PART.lastIndex;
    const match = PART.exec(trimmed);
    if (match === null) {
      throw new RangeError(
        `invalid duration '${text}' at '${trimmed.slice(at)}': use a number and a unit (ms, s, m, h, d), e.g. 500ms, 30s, 5m, 1h30m`,
      );
    }
    const [, amount = '0', unit = 'ms'] = match;
    total += Number(amount) * (UNITS[unit] ?? 1);
  }
  total = Math.round(total);
  if (total <= 0) {
    throw new RangeError(`invalid duration '${text}': must be more than 0 ms`);
  }
  return total;
}

/**
 * The shortest readable form of `ms`, to the millisecond below a minute and to the second above.
 *
 * @example
 * ```ts
 * formatDuration(5_400_000); // '1h30m'
 * formatDuration(1_500); // '1.5s'
 * ```
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(3))}s`;
  let rest = Math.round(ms / 1000);
  let text = '';
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0) text += `${amount}${unit}`;
  }
  return text;
}

// @ts-check
/** Number formats and markdown tables for the report. */

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const one = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const two = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const three = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 3,
  maximumFractionDigits: 3,
});

/**
 * @param {Intl.NumberFormat} f
 * @returns {(n: number | undefined) => string}
 */
const fmt = (f) => (n) => (n === undefined || Number.isNaN(n) ? '—' : f.format(n));
export const fmtInt = fmt(int);
export const fmtOne = fmt(one);
export const fmtTwo = fmt(two);
export const fmtThree = fmt(three);
/** @param {number | undefined} s */
export const fmtSpread = (s) => (s === undefined ? '—' : `${int.format(s * 100)}%`);
/** Header of the column that shows how many cores other processes kept busy during a run. */
export const OTHER = 'busy elsewhere';

/** @param {number | undefined} r */
export const fmtRatio = (r) => (r === undefined || !Number.isFinite(r) ? '—' : `${fmtTwo(r)}x`);

/**
 * A markdown table with padded columns: the first `left` columns left-aligned, the rest (figures)
 * right-aligned.
 * @param {readonly string[]} headers
 * @param {readonly (readonly string[])[]} rows
 * @param {number} [left]
 * @returns {string}
 */
export function table(headers, rows, left = 1) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  /** @param {readonly string[]} cells */
  const line = (cells) =>
    `| ${widths.map((w, i) => (i < left ? (cells[i] ?? '').padEnd(w) : (cells[i] ?? '').padStart(w))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < left ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

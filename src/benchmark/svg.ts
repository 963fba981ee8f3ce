/**
 * Two small SVG charts, written by hand: a line chart over a few categories with up to two
 * y axes, and a horizontal bar chart with reference lines. Hand-written because a chart
 * library that renders SVG in Node (Vega + Vega-Lite pulls in d3 and weighs megabytes) would
 * become a dependency of every user for a dozen points; the output is plain SVG 1.1 that a
 * browser, GitHub's README view or an XML parser reads.
 *
 * Measures are `<g class="series" data-series="ID">` groups with one `<circle>` per point;
 * reference lines (the ideal, a floor, a target) are `<g class="reference">` groups.
 *
 * @module
 */

/** Escapes text for XML content and attribute values. */
export function xml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** A number for an SVG attribute: two decimals at most. */
const n = (v: number): string => String(Math.round(v * 100) / 100);

/** A y axis of a line chart. */
export interface Axis {
  label: string;
  /** The top of the axis; the largest value plotted on it when left out. */
  max?: number;
  /** Ticks formatted by this, e.g. as a percentage. */
  format?: (v: number) => string;
}

/** A line of a line chart: a measure (with points) or a reference (a line only). */
export interface Line {
  id: string;
  name: string;
  color: string;
  axis: 'left' | 'right';
  /** One value per category; `null` leaves a gap. */
  values: readonly (number | null)[];
  /** Error bars: the low and high ends per category. */
  low?: readonly (number | null)[];
  high?: readonly (number | null)[];
  /** A reference line: dashed, no points. */
  reference?: boolean;
}

/** A line chart over categories (e.g. thread counts), evenly spaced. */
export interface LineChartSpec {
  title: string;
  xLabel: string;
  categories: readonly string[];
  left: Axis;
  right?: Axis;
  lines: readonly Line[];
}

const W = 720;
const H = 420;
const M = { top: 48, right: 80, bottom: 84, left: 84 };
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** A round step for about five ticks up to `max`. */
function niceStep(max: number): number {
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const unit = [1, 2, 2.5, 5, 10].find((u) => u * mag >= raw) ?? 10;
  return unit * mag;
}

/** `12k`, `1.5M`, `0.25`. */
export function short(v: number): string {
  if (v >= 1e6) return `${n(v / 1e6)}M`;
  if (v >= 1e3) return `${n(v / 1e3)}k`;
  return n(v);
}

/** Characters of a bold 15 px title that fit on one line of the chart's width. */
const TITLE_CHARS = 80;
/** The height a title line takes. */
const TITLE_LINE = 18;

/**
 * The title wrapped at word boundaries to the chart's width, as one `<text>` of `<tspan>`
 * lines; `extra` is the height taken beyond the one line the layout reserves.
 */
function heading(title: string): { svg: string; extra: number } {
  const lines: string[] = [];
  // A word longer than a line (a long task name) is cut into line-sized pieces.
  const words = title
    .split(/\s+/)
    .flatMap((w) => w.match(new RegExp(`.{1,${TITLE_CHARS}}`, 'g')) ?? []);
  for (const word of words) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= TITLE_CHARS) {
      lines[lines.length - 1] = `${last} ${word}`;
    } else {
      lines.push(word);
    }
  }
  if (lines.length === 0) lines.push('');
  const spans = lines
    .map((line, i) => `<tspan x="${W / 2}" dy="${i === 0 ? 0 : TITLE_LINE}">${xml(line)}</tspan>`)
    .join('');
  return {
    svg: `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${spans}</text>`,
    extra: (lines.length - 1) * TITLE_LINE,
  };
}

/** The top of an axis: its max, or the largest value on it rounded up to a tick. */
function axisTop(axis: Axis, values: number[]): number {
  if (axis.max !== undefined) return axis.max;
  const largest = Math.max(0, ...values.filter(Number.isFinite));
  if (largest === 0) return 1;
  const step = niceStep(largest);
  return Math.ceil((largest * 1.05) / step) * step;
}

/** The chart as an SVG document. */
export function lineChart(spec: LineChartSpec): string {
  const pw = W - M.left - M.right;
  // A title of several lines pushes the plot down rather than over it.
  const title = heading(spec.title);
  const top = M.top + title.extra;
  const height = H + title.extra;
  const ph = H - M.top - M.bottom;
  const count = spec.categories.length;
  const x = (i: number): number => M.left + (count === 1 ? pw / 2 : (i * pw) / (count - 1));
  const on = (side: 'left' | 'right'): number[] =>
    spec.lines
      .filter((l) => l.axis === side)
      .flatMap((l) => [...l.values, ...(l.high ?? [])])
      .filter((v): v is number => v !== null);
  const tops = {
    left: axisTop(spec.left, on('left')),
    right: spec.right === undefined ? 1 : axisTop(spec.right, on('right')),
  };
  const y = (v: number, side: 'left' | 'right'): number => top + ph - (v / tops[side]) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" ${FONT} font-size="12">`,
    `<title>${xml(spec.title)}</title>`,
    `<rect width="${W}" height="${height}" fill="#ffffff"/>`,
    title.svg,
  );
  // Grid and ticks of the left axis; the right axis gets ticks only.
  const sides: ['left' | 'right', Axis][] = [['left', spec.left]];
  if (spec.right !== undefined) sides.push(['right', spec.right]);
  for (const [side, axis] of sides) {
    const step = niceStep(tops[side]);
    const fmt = axis.format ?? short;
    for (let v = 0; v <= tops[side] + step / 1000; v += step) {
      const ty = n(y(v, side));
      if (side === 'left') {
        out.push(
          `<line x1="${M.left}" x2="${M.left + pw}" y1="${ty}" y2="${ty}" stroke="#e5e5e5"/>`,
        );
        out.push(
          `<text x="${M.left - 8}" y="${ty}" text-anchor="end" dominant-baseline="middle">${xml(fmt(v))}</text>`,
        );
      } else {
        out.push(
          `<text x="${M.left + pw + 8}" y="${ty}" dominant-baseline="middle">${xml(fmt(v))}</text>`,
        );
      }
    }
    const lx = side === 'left' ? 20 : W - 14;
    out.push(
      `<text transform="translate(${lx} ${top + ph / 2}) rotate(-90)" text-anchor="middle">${xml(axis.label)}</text>`,
    );
  }
  out.push(
    `<line x1="${M.left}" x2="${M.left + pw}" y1="${top + ph}" y2="${top + ph}" stroke="#333"/>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${top}" y2="${top + ph}" stroke="#333"/>`,
  );
  spec.categories.forEach((c, i) => {
    out.push(`<text x="${n(x(i))}" y="${top + ph + 18}" text-anchor="middle">${xml(c)}</text>`);
  });
  out.push(
    `<text x="${M.left + pw / 2}" y="${top + ph + 38}" text-anchor="middle">${xml(spec.xLabel)}</text>`,
  );
  for (const line of spec.lines) {
    const points = line.values.flatMap((v, i) =>
      v === null ? [] : [[x(i), y(v, line.axis)] as const],
    );
    const d = points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${n(px)} ${n(py)}`).join(' ');
    const kind = line.reference === true ? 'reference' : 'series';
    out.push(
      `<g class="${kind}" data-${kind}="${xml(line.id)}">`,
      `<title>${xml(line.name)}</title>`,
    );
    out.push(
      `<path d="${d}" fill="none" stroke="${line.color}" stroke-width="2"${line.reference === true ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    if (line.reference !== true) {
      line.values.forEach((v, i) => {
        if (v === null) return;
        const lo = line.low?.[i];
        const hi = line.high?.[i];
        if (lo !== undefined && lo !== null && hi !== undefined && hi !== null) {
          out.push(
            `<line x1="${n(x(i))}" x2="${n(x(i))}" y1="${n(y(lo, line.axis))}" y2="${n(y(hi, line.axis))}" stroke="${line.color}" stroke-width="1.5"/>`,
          );
        }
        out.push(
          `<circle cx="${n(x(i))}" cy="${n(y(v, line.axis))}" r="4" fill="${line.color}"><title>${xml(`${line.name}: ${short(v)}`)}</title></circle>`,
        );
      });
    }
    out.push('</g>');
  }
  // The legend, in one row under the x axis label.
  let lx = M.left;
  const ly = height - 18;
  for (const line of spec.lines) {
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${line.color}" stroke-width="2"${line.reference === true ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${xml(line.name)}</text>`,
    );
    lx += 40 + line.name.length * 6.5;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** One bar of a bar chart. */
export interface Bar {
  label: string;
  value: number;
  /** Drawn in the highlight colour (corral's own bars). */
  highlight?: boolean;
}

/** A horizontal bar chart, with vertical reference lines (a floor, a target). */
export interface BarChartSpec {
  title: string;
  /** The measure and its unit, under the x axis. */
  unit: string;
  bars: readonly Bar[];
  references?: readonly { label: string; value: number; color: string }[];
  /** Lines of text under the chart (e.g. the targets and their results). */
  notes?: readonly string[];
}

/** The bar chart as an SVG document; its height grows with the bars and notes. */
export function barChart(spec: BarChartSpec): string {
  const left = 150;
  const right = 40;
  const rowH = 26;
  const title = heading(spec.title);
  const top = 48 + title.extra;
  const notes = spec.notes ?? [];
  const refs = spec.references ?? [];
  const ph = spec.bars.length * rowH;
  const height = top + ph + 54 + refs.length * 18 + notes.length * 18 + 10;
  const pw = W - left - right;
  const max = axisTop({ label: spec.unit }, [
    ...spec.bars.map((b) => b.value),
    ...refs.map((r) => r.value),
  ]);
  const x = (v: number): number => left + (v / max) * pw;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" ${FONT} font-size="12">`,
    `<title>${xml(spec.title)}</title>`,
    `<rect width="${W}" height="${height}" fill="#ffffff"/>`,
    title.svg,
  ];
  const step = niceStep(max);
  for (let v = 0; v <= max + step / 1000; v += step) {
    out.push(
      `<line x1="${n(x(v))}" x2="${n(x(v))}" y1="${top}" y2="${top + ph}" stroke="#e5e5e5"/>`,
      `<text x="${n(x(v))}" y="${top + ph + 16}" text-anchor="middle">${xml(short(v))}</text>`,
    );
  }
  out.push(`<g class="series" data-series="bars">`);
  spec.bars.forEach((b, i) => {
    const by = top + i * rowH + 4;
    out.push(
      `<text x="${left - 8}" y="${by + (rowH - 8) / 2}" text-anchor="end" dominant-baseline="middle">${xml(b.label)}</text>`,
      `<rect x="${left}" y="${by}" width="${n(Math.max(0, x(b.value) - left))}" height="${rowH - 8}" fill="${b.highlight === true ? '#d9480f' : '#4c6ef5'}"><title>${xml(`${b.label}: ${short(b.value)}`)}</title></rect>`,
      `<text x="${n(x(b.value) + 4)}" y="${by + (rowH - 8) / 2}" dominant-baseline="middle" font-size="11">${xml(short(b.value))}</text>`,
    );
  });
  out.push('</g>');
  let ny = top + ph + 54;
  for (const r of refs) {
    out.push(
      `<g class="reference" data-reference="${xml(r.label)}">`,
      `<line x1="${n(x(r.value))}" x2="${n(x(r.value))}" y1="${top - 4}" y2="${top + ph}" stroke="${r.color}" stroke-width="2" stroke-dasharray="6 4"/>`,
      `<text x="${left}" y="${ny}" fill="${r.color}">${xml(`- - ${r.label}: ${short(r.value)}`)}</text>`,
      '</g>',
    );
    ny += 18;
  }
  out.push(
    `<text x="${left + pw / 2}" y="${top + ph + 30}" text-anchor="middle">${xml(spec.unit)}</text>`,
  );
  for (const note of notes) {
    out.push(`<text x="16" y="${ny}" font-size="11">${xml(note)}</text>`);
    ny += 18;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

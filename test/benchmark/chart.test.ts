/**
 * The scaling chart: valid XML, one series per measure with one point per thread count, the
 * ideal line, and an image that headless Chromium draws with something on it.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scalingChart, type BenchmarkPoint, type BenchmarkReport } from 'corral';
import { launchBrowser } from '../helpers/browser.js';

/** A point with the given rate; the other figures follow from it. */
function point(mode: BenchmarkPoint['mode'], threads: number, rate: number): BenchmarkPoint {
  return {
    mode,
    parameters: { threads },
    mean: rate,
    stddev: rate / 20,
    median: rate,
    min: rate * 0.9,
    max: rate * 1.1,
    samples: [rate * 0.9, rate, rate * 1.1],
    jobs: rate * 3,
    seconds: 3,
    speedupInline: rate / 500,
    speedupOneThread: rate / 480,
    efficiency: rate / (500 * threads),
    runTime: { p50: 2, p99: 3 },
    taskMs: 2,
    overheadMs: 0.05,
    peakRss: 80 * 2 ** 20,
  };
}

const THREADS = [1, 2, 4, 8];
const report: BenchmarkReport = {
  module: 'file:///project/hash-worker.js',
  task: 'sha256',
  inputs: { source: 'file', count: 100 },
  cores: 4,
  plan: { warmUpMs: 400, sampleMs: 400, samples: 5 },
  results: [
    point('inline', 1, 500),
    ...THREADS.map((t) => point('pool', t, 480 * Math.min(t, 4) * 0.95)),
  ],
  batched: null,
  advice: { knee: 4, cores: 4, tooSmall: false, messages: [] },
};
const svg = scalingChart(report);

/** Draws an SVG (given as text) on a white canvas and counts its dark and coloured pixels. */
const INK = `async (text) => {
      const img = new Image();
      img.src = \`data:image/svg+xml;charset=utf-8,\${encodeURIComponent(text)}\`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const ctx = canvas.getContext('2d');
      if (ctx === null) throw new Error('no 2d context');
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0);
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      let dark = 0;
      let coloured = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
        if (r < 128 && g < 128 && b < 128) dark++;
        if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
      }
      return { width: canvas.width, dark, coloured };
    }`;

interface Group {
  '@_data-series'?: string;
  '@_data-reference'?: string;
  circle?: unknown[];
  path?: { '@_d': string }[];
}

describe('scalingChart', () => {
  it('is well-formed XML', () => {
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- its successor, fast-xml-validator, is not installed; this one still checks well-formedness
    expect(XMLValidator.validate(svg)).toBe(true);
  });

  it('has one series per measure, one point per thread count, and the ideal line', () => {
    const doc = new XMLParser({
      ignoreAttributes: false,
      isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
    }).parse(svg) as { svg: { g: Group[] }[] };
    const groups = doc.svg[0]?.g ?? [];
    const series = groups.filter((g) => g['@_data-series'] !== undefined);
    expect(series.map((g) => g['@_data-series'])).toEqual(['jobs-per-second', 'efficiency']);
    for (const g of series) expect(g.circle).toHaveLength(THREADS.length);
    const ideal = groups.find((g) => g['@_data-reference'] === 'ideal');
    // A path of one point per thread count: M, then L for each further one.
    expect(ideal?.path?.[0]?.['@_d'].match(/[ML]/g)).toHaveLength(THREADS.length);
  });
});

describe('scalingChart titles', () => {
  /** The title's lines (its tspans) and the y of the plot's top (the left axis line). */
  function layout(text: string): { lines: string[]; plotTop: number } {
    const lines = [...text.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((m) => m[1] ?? '');
    const axis = /<line x1="84" x2="84" y1="([\d.]+)"/.exec(text);
    return { lines, plotTop: Number(axis?.[1]) };
  }

  it('wraps a title wider than the chart and moves the plot below it', () => {
    const short = layout(svg);
    expect(short.lines).toHaveLength(1);
    const long = layout(
      scalingChart({ ...report, task: 'normaliseAndHashEveryRecordOfTheCustomerLedger'.repeat(2) }),
    );
    expect(long.lines.length).toBeGreaterThan(1);
    for (const line of long.lines) expect(line.length).toBeLessThanOrEqual(80);
    expect(long.lines.join(' ')).toContain('corral bench: normaliseAndHash');
    expect(long.plotTop).toBe(short.plotTop + 18 * (long.lines.length - 1));
  });
});

describe('scalingChart in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
  });

  /** The dark and the coloured pixels of an SVG drawn on a white canvas in the page. */
  async function ink(text: string): Promise<{ width: number; dark: number; coloured: number }> {
    const page = await browser.newPage();
    await page.setContent('<html><body style="margin:0;background:#fff"></body></html>');
    // In-page code as text: the test files are type-checked without the DOM's types.
    const counts = await page.evaluate<{ width: number; dark: number; coloured: number }>(
      `(${INK})(${JSON.stringify(text)})`,
    );
    await page.close();
    return counts;
  }

  it('renders to an image that is not blank', async () => {
    const counts = await ink(svg);
    expect(counts.width).toBeGreaterThan(0);
    // Text and axes (dark) and the series (coloured) are drawn: well above a few stray pixels.
    expect(counts.dark).toBeGreaterThan(500);
    expect(counts.coloured).toBeGreaterThan(500);
    // The check itself: an empty chart of the same size counts nothing.
    const blank = await ink('<svg xmlns="http://www.w3.org/2000/svg" width="720" height="420"/>');
    expect(blank).toMatchObject({ dark: 0, coloured: 0 });
  });
});

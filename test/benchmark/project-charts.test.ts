/**
 * bench/charts.js: the project's bench as pictures, from a small results file in the shape
 * bench/run.js writes. One well-formed SVG per scenario with figures; corral against the
 * peers, the bare floor and the ideal as reference lines, the targets as notes.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { writeCharts } from '../../bench/charts.js';
import results from '../fixtures/bench-results.mjs';
import { tempDir } from '../helpers/index.js';

interface Group {
  '@_data-series'?: string;
  '@_data-reference'?: string;
  rect?: { title?: string[] }[];
}

/** The series and reference groups of an SVG file. */
function groups(path: string): { svg: string; groups: Group[] } {
  const svg = readFileSync(path, 'utf8');
  const doc = new XMLParser({
    ignoreAttributes: false,
    isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
  }).parse(svg) as { svg: { g: Group[] }[] };
  return { svg, groups: doc.svg[0]?.g ?? [] };
}

describe('bench/charts.js', () => {
  it('writes one well-formed SVG per scenario with figures', async () => {
    const dir = tempDir();
    const written = await writeCharts(results, dir);
    expect(written.map((p) => basename(p))).toEqual([
      'tiny-burst.svg',
      'cpu.svg',
      'queue-tiny.svg',
    ]);
    for (const path of written)
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- its successor, fast-xml-validator, is not installed; this one still checks well-formedness
      expect(XMLValidator.validate(readFileSync(path, 'utf8'))).toBe(true);
  });

  it('draws a bar per contestant that has figures, with the bare floor as a line', async () => {
    const dir = tempDir();
    const [tiny] = await writeCharts(results, dir);
    const { svg, groups: g } = groups(tiny ?? '');
    const bars = g.find((x) => x['@_data-series'] === 'bars')?.rect ?? [];
    // corral, piscina, poolifier: bare is the reference line, tinypool failed every repetition.
    expect(bars.map((b) => String(b.title?.[0]).split(':')[0])).toEqual([
      'corral',
      'piscina',
      'poolifier',
    ]);
    expect(g.map((x) => x['@_data-reference']).filter(Boolean)).toEqual([
      'bare MessagePort (the floor)',
    ]);
    expect(svg).toContain('target PASS: corral vs best peer: 1.76x (required &gt;= 1.5x)');
  });

  it('labels thread counts when a scenario has several, and marks the ideal for efficiencies', async () => {
    const dir = tempDir();
    const written = await writeCharts(results, dir);
    const { groups: g } = groups(written[1] ?? '');
    const bars = g.find((x) => x['@_data-series'] === 'bars')?.rect ?? [];
    expect(bars.map((b) => String(b.title?.[0]).split(':')[0])).toEqual([
      'corral (2 threads)',
      'corral (4 threads)',
      'piscina (2 threads)',
      'inline (1 thread)',
    ]);
    expect(g.map((x) => x['@_data-reference']).filter(Boolean)).toEqual(['ideal']);
  });
});

/** Reads a `/metrics` page with a Prometheus text-format parser (not a regex). */
// @ts-expect-error: the parser ships no types; its output is described below.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/** One series of a parsed family. */
export interface Sample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

/** A metric family, as the parser gives it. */
export interface Family {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: Sample[];
}

export const parsePrometheus = parsePrometheusTextFormat as (text: string) => Family[];

/**
 * Parses a page into families by name. The parser folds a histogram's series into one and
 * drops their labels (it handles only unlabelled histograms), so each histogram is also
 * read untyped: its `_bucket`, `_sum` and `_count` samples are then families of their own,
 * labels and all, and {@link histogram} puts a series together from them.
 */
export function parsePage(text: string): Map<string, Family> {
  const families = new Map(parsePrometheus(text).map((f) => [f.name, f]));
  const untyped = text
    .split('\n')
    .filter((line) => !(line.startsWith('# TYPE ') && line.endsWith(' histogram')))
    .join('\n');
  // Untyped, a histogram's series come as runs of families of the same names: merge them.
  const parts = new Map<string, Family>();
  for (const f of parsePrometheus(untyped)) {
    if (families.has(f.name)) continue;
    const seen = parts.get(f.name);
    if (seen === undefined) parts.set(f.name, { ...f, metrics: [...f.metrics] });
    else seen.metrics.push(...f.metrics);
  }
  for (const [name, f] of parts) families.set(name, f);
  return families;
}

/** Fetches and parses `url`. */
export async function scrape(url: string): Promise<Map<string, Family>> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  return parsePage(await res.text());
}

/** A histogram series: its buckets (by `le`), sum and count. */
export interface HistogramSeries {
  buckets: Map<string, number>;
  sum: number;
  count: number;
}

/** The one series of histogram `name` whose labels include `match`, if any. */
export function histogram(
  families: Map<string, Family>,
  name: string,
  match: Record<string, string>,
): HistogramSeries | undefined {
  const buckets = new Map<string, number>();
  const same = (labels: Record<string, string> | undefined): boolean => {
    return Object.entries(match).every(([k, v]) => labels?.[k] === v);
  };
  for (const m of families.get(`${name}_bucket`)?.metrics ?? []) {
    if (!same(m.labels)) continue;
    const le = m.labels?.le as string;
    if (buckets.has(le)) throw new Error(`${name}: more than one series matches`);
    buckets.set(le, Number(m.value));
  }
  const one = (suffix: string): number | undefined => {
    const found = (families.get(`${name}${suffix}`)?.metrics ?? []).filter((m) => same(m.labels));
    return found.length === 1 ? Number(found[0]?.value) : undefined;
  };
  const sum = one('_sum');
  const count = one('_count');
  if (buckets.size === 0 || sum === undefined || count === undefined) return undefined;
  return { buckets, sum, count };
}

/** The samples of `name` whose labels include `match`. */
export function samples(
  families: Map<string, Family>,
  name: string,
  match: Record<string, string> = {},
): Sample[] {
  const family = families.get(name);
  if (family === undefined) return [];
  return family.metrics.filter((m) => Object.entries(match).every(([k, v]) => m.labels?.[k] === v));
}

/** The value of the one sample of `name` matching `match` (undefined if none). */
export function value(
  families: Map<string, Family>,
  name: string,
  match: Record<string, string> = {},
): number | undefined {
  const found = samples(families, name, match);
  if (found.length > 1) throw new Error(`${name}: ${found.length} samples match`);
  const v = found[0]?.value;
  return v === undefined ? undefined : Number(v);
}

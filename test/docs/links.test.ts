// Keeps the README and docs/ honest: the README stays short, every relative link and
// anchor leads somewhere, and what they name (options, error codes, commands) exists.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from 'corral';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

/** The documents a reader is sent to: the README, docs/ and the benchmark's notebook. */
const DOCUMENTS = [
  'README.md',
  'bench/README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** Markdown without its fenced code blocks (links and headings in code are not markdown). */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
}

/** GitHub's anchors for a document's headings, `-1`, `-2` added to repeated ones. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, text] of prose(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = (text as string)
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** `[text](target)` links that stay in the repository: [path, anchor]. */
function relativeLinks(markdown: string): [string, string | undefined][] {
  const links: [string, string | undefined][] = [];
  for (const [, target] of prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(target as string)) continue; // https:, mailto:
    const [path, anchor] = (target as string).split('#', 2) as [string, string | undefined];
    links.push([path, anchor]);
  }
  return links;
}

describe('README.md and docs/', () => {
  it('keeps README.md to at most 450 lines (the rest lives in docs/)', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(450);
  });

  it('has docs/internals.md with its layout first and a sequence diagram of a local and of a remote job', () => {
    const internals = read('docs/internals.md');
    const sections = [...prose(internals).matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(sections[0]).toBe('Layout');
    const diagrams = [...internals.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
    expect(diagrams).toHaveLength(2);
    for (const diagram of diagrams) expect(diagram).toMatch(/^sequenceDiagram\n/);
    expect(diagrams[0]).toMatch(/participant \w+ as Pool/);
    expect(diagrams[1]).toMatch(/participant \w+ as RemotePool/);
  });

  for (const document of DOCUMENTS) {
    it(`${document}: every relative link leads to a file, and every anchor to a heading`, () => {
      const broken: string[] = [];
      const markdown = read(document);
      for (const [path, anchor] of relativeLinks(markdown)) {
        const target = path === '' ? document : relative(root, join(root, dirname(document), path));
        if (!existsSync(join(root, target))) {
          broken.push(`${path}: no such file`);
          continue;
        }
        if (anchor !== undefined && !anchors(read(target)).has(anchor)) {
          broken.push(`${path}#${anchor}: no such heading in ${target}`);
        }
      }
      expect(broken).toEqual([]);
    });

    it(`${document}: every ERR_ code it names exists`, () => {
      const sources = [
        ...ERROR_CODES,
        'ERR_TS_LOADER_MISSING', // a cause's code, from workers/load-module.ts
        'ERR_INIT_UNSETTLED', // a cause's code, from workers/modules.ts
      ];
      const named = new Set(read(document).match(/\bERR_[A-Z_]+\b/g) ?? []);
      expect([...named].filter((code) => !sources.includes(code))).toEqual([]);
    });
  }

  it("lists in README.md's options table every option of PoolSettings, and nothing else", () => {
    const source = read('src/pool/options.ts');
    const start = source.indexOf('export interface PoolSettings {');
    expect(start).toBeGreaterThan(-1);
    const body = source.slice(start, source.indexOf('\n}', start));
    const declared = [...body.matchAll(/^ {2}(\w+)\?:/gm)].map((m) => m[1]);
    const readme = read('README.md');
    const table = readme.slice(readme.indexOf('### `new Pool(options)`'));
    const documented: string[] = [];
    for (const line of table.split('\n').slice(2)) {
      if (!line.startsWith('|')) {
        if (documented.length > 0) break;
        continue;
      }
      const option = /^\| `(\w+)`/.exec(line)?.[1];
      if (option !== undefined) documented.push(option);
    }
    expect(documented.length).toBeGreaterThan(0);
    expect([...documented].sort()).toEqual([...declared].sort());
  });

  it("keeps the fresh-machine table's two commands true", () => {
    const readme = read('README.md');
    expect(readme).toContain('| `npm ci && npm run demo` |');
    expect(readme).toContain('| `bash .ci/run`           |');
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts.demo).toMatch(/\bdemo\b/);
    expect(existsSync(join(root, '.ci/run'))).toBe(true);
  });
});

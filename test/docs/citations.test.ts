/**
 * The repo owns its design: every document a source file cites must be in the repo.
 * Two kinds of dangling citation are refused:
 *   - a mention of a document that lives outside the repo (the design and tooling notes
 *     the project started from, a style guide, the workspace's `../shared/` folder);
 *   - a relative Markdown link, or a `docs/<file>.md[#anchor]` reference in any file,
 *     whose file does not exist or whose anchor names no heading of that file.
 * Anchors are computed as GitHub computes them from headings.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SELF = fileURLToPath(import.meta.url);
const SCANNED = /\.(ts|mts|mjs|py|md|json)$/;
/** Installs, build outputs and caches: not the project's own text. */
const SKIPPED_DIRS = new Set([
  'node_modules',
  '.venv',
  'cdk.out',
  '.rewardds',
  '.git',
  '__pycache__',
  '.pytest_cache',
  '.ruff_cache',
  'dist',
  'coverage',
]);

/** Documents that were never in the repo; the names are split so this file does not cite them. */
const OUTSIDE_DOCS = [`DESIGN ${'§'}`, `DESIGN${'.md'}`, `TOOLING${'.md'}`, `STYLE${'.md'}`];

interface SourceFile {
  /** Absolute path. */
  path: string;
  text: string;
}

interface Violation {
  file: string;
  line: number;
  problem: string;
}

/** The GitHub anchor of a heading: rendered text, lower-cased, punctuation dropped, spaces → '-'. */
function githubAnchor(heading: string): string {
  const rendered = heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .replace(/\*/g, '');
  return rendered
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Inline code spans blanked out character for character: `[x](y)` in code is not a link. */
const withoutCodeSpans = (markdown: string) => markdown.replace(/`[^`\n]*`/g, (span) => ' '.repeat(span.length));

/** Fenced code blocks blanked out line for line, so line numbers stay right. */
function withoutCodeBlocks(markdown: string): string {
  let fenced = false;
  return markdown
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line;
    })
    .join('\n');
}

/** Every anchor a Markdown file offers, with GitHub's -1, -2 suffixes for repeated headings. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutCodeBlocks(markdown).split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = githubAnchor(heading[1] ?? '');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** Checks one citation of `target` (a path from `fromDir`, with an optional `#anchor`). */
function checkTarget(
  target: string,
  file: string,
  fromDir: string,
  read: (path: string) => string | undefined,
  exists: (path: string) => boolean,
): string | undefined {
  const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
  const path = pathPart === '' ? file : resolve(fromDir, pathPart);
  if (path !== ROOT && !path.startsWith(ROOT + sep)) return `${target}: points outside the repo`;
  if (!exists(path)) return `${target}: no such file in the repo`;
  if (anchor === undefined || anchor === '' || !path.endsWith('.md')) return undefined;
  const text = read(path);
  if (text === undefined || !anchorsOf(text).has(anchor.toLowerCase())) {
    return `${target}: ${relative(ROOT, path)} has no heading with anchor #${anchor}`;
  }
  return undefined;
}

/**
 * Dangling citations in `files`. `read` and `exists` answer for paths (files outside
 * the scanned set too: a link may point at a folder or a Python file).
 */
function findDanglingCitations(
  files: SourceFile[],
  read: (path: string) => string | undefined,
  exists: (path: string) => boolean,
): Violation[] {
  const violations: Violation[] = [];
  // `within` is the text `index` counts in (the file, or its prose with code blocks blanked).
  const report = (file: SourceFile, index: number, problem: string, within = file.text) =>
    violations.push({ file: relative(ROOT, file.path), line: lineOf(within, index), problem });

  for (const file of files) {
    const { text } = file;
    for (const name of OUTSIDE_DOCS) {
      for (let i = text.indexOf(name); i !== -1; i = text.indexOf(name, i + 1)) {
        report(file, i, `cites ${name.trim()}, which is not in the repo`);
      }
    }
    // `../shared/…` must resolve inside the repo to something that exists (a TypeScript
    // import's `.js` names its `.ts` source).
    for (const m of text.matchAll(/(?<![\w./-])((?:\.\.\/)+shared\/[\w./-]*)/g)) {
      const cited = m[1] ?? '';
      const path = resolve(dirname(file.path), cited);
      const inside = path.startsWith(ROOT + sep);
      const candidates = [path, path.replace(/\.js$/, '.ts'), `${path}.ts`, join(path, 'index.ts')];
      if (!inside) report(file, m.index, `${cited}: points outside the repo`);
      else if (!candidates.some(exists)) report(file, m.index, `${cited}: no such file in the repo`);
    }
    // `docs/<file>.md#anchor` anywhere (comments, strings, prose) is relative to the repo root.
    for (const m of text.matchAll(/(?<![\w./-])(docs\/[\w.-]+\.md(?:#[\p{L}\p{N}_-]+)?)/gu)) {
      const problem = checkTarget(m[1] ?? '', file.path, ROOT, read, exists);
      if (problem) report(file, m.index, problem);
    }
    if (!file.path.endsWith('.md')) continue;
    // Relative Markdown links, outside code blocks.
    const prose = withoutCodeSpans(withoutCodeBlocks(text));
    for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1] ?? '';
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const problem = checkTarget(decodeURI(target), file.path, dirname(file.path), read, exists);
      if (problem) report(file, m.index, problem, prose);
    }
  }
  return violations;
}

function sourceFiles(dir: string): SourceFile[] {
  const found: SourceFile[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue; // node_modules and .venv are links to shared installs
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name) && path !== join(ROOT, 'bench', 'out')) found.push(...sourceFiles(path));
    } else if (entry.isFile() && SCANNED.test(entry.name) && path !== SELF) {
      found.push({ path, text: readFileSync(path, 'utf8') });
    }
  }
  return found;
}

const readDisk = (path: string) => {
  try {
    return statSync(path).isFile() ? readFileSync(path, 'utf8') : undefined;
  } catch {
    return undefined;
  }
};

describe('citations', () => {
  it('computes anchors as GitHub renders headings', () => {
    expect(githubAnchor('The gate (round r ≥ 1)')).toBe('the-gate-round-r--1');
    expect(githubAnchor('prepare-run (`functions/prepare-run/`)')).toBe('prepare-run-functionsprepare-run');
    expect(githubAnchor('5. Where the outputs land')).toBe('5-where-the-outputs-land');
    expect(githubAnchor('How ε is computed')).toBe('how-ε-is-computed');
    expect([...anchorsOf('# A\n## Notes\n```\n# not a heading\n```\n### Notes\n')]).toEqual(['a', 'notes', 'notes-1']);
  });

  describe('on planted citations', () => {
    const doc = join(ROOT, 'docs', 'fake.md');
    const code = join(ROOT, 'functions', 'fake', 'handler.ts');
    const disk = new Map([
      [doc, '# Fake\n\n## Build reward pairs\n'],
      [join(ROOT, 'functions', 'shared', 'events.ts'), ''],
    ]);
    const check = (file: string, text: string) =>
      findDanglingCitations(
        [{ path: file, text }],
        (p) => disk.get(p),
        (p) => disk.has(p),
      ).map((v) => `${v.line}: ${v.problem}`);

    it('accepts citations of files and headings that exist', () => {
      expect(check(code, "// docs/fake.md#build-reward-pairs\nimport { x } from '../shared/events.js';")).toEqual([]);
      expect(check(doc, 'See [pairs](fake.md#build-reward-pairs) and [top](#fake).')).toEqual([]);
    });

    it.each(OUTSIDE_DOCS)('refuses a mention of %s', (name) => {
      expect(check(code, `/**\n * The filter (${name} 2.3).\n */`)).toEqual([
        `2: cites ${name.trim()}, which is not in the repo`,
      ]);
    });

    it('refuses ../shared/ paths that leave the repo or name nothing', () => {
      expect(check(doc, 'read ../../../shared/notes.md first')).toEqual([
        '1: ../../../shared/notes.md: points outside the repo',
      ]);
      expect(check(code, "import { y } from '../shared/gone.js';")).toEqual([
        '1: ../shared/gone.js: no such file in the repo',
      ]);
    });

    it('refuses a docs/ reference to a missing file or heading', () => {
      expect(check(code, '# see docs/nowhere.md')).toEqual(['1: docs/nowhere.md: no such file in the repo']);
      expect(check(code, '\n// docs/fake.md#build-pairs')).toEqual([
        '2: docs/fake.md#build-pairs: docs/fake.md has no heading with anchor #build-pairs',
      ]);
    });

    it('refuses a relative Markdown link to a missing file or heading, outside code blocks and spans only', () => {
      const markdown =
        '[a](missing.md)\n```\n[d](gone.md)\n```\n[b](fake.md#nope)\n[c](#nope)\n| `/^[a-z](-*[a-z])$/` | [e](lost.md) |';
      expect(check(doc, markdown)).toEqual([
        '1: missing.md: no such file in the repo',
        '5: fake.md#nope: docs/fake.md has no heading with anchor #nope',
        '6: #nope: docs/fake.md has no heading with anchor #nope',
        '7: lost.md: no such file in the repo',
      ]);
    });
  });

  it('finds no dangling citation in the repo', () => {
    const files = sourceFiles(ROOT);
    expect(files.length).toBeGreaterThan(100);
    expect(files.some((f) => f.path === join(ROOT, 'docs', 'design.md'))).toBe(true);
    const violations = findDanglingCitations(files, readDisk, existsSync);
    expect(violations.map((v) => `${v.file}:${v.line}: ${v.problem}`)).toEqual([]);
  });
});

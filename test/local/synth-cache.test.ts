import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cachedJson, NO_SYNTH_CACHE_ENV, sourcesHash } from '../../local/synth-cache.js';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rewardds-synth-cache-'));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

afterEach(() => {
  delete process.env[NO_SYNTH_CACHE_ENV];
});

function tree(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const SOURCES = { 'infra/stack.ts': 'stack', 'core/a.ts': 'a', 'package-lock.json': '{}' };

describe('the hash of the sources a template is built from', () => {
  it('is the same for the same files, and changes with any byte, file name, added file or extra', () => {
    const base = sourcesHash(tree('same-1', SOURCES), ['infra', 'core', 'package-lock.json'], 'x');
    expect(sourcesHash(tree('same-2', SOURCES), ['infra', 'core', 'package-lock.json'], 'x')).toBe(base);
    const variants = [
      tree('byte', { ...SOURCES, 'core/a.ts': 'b' }),
      tree('added', { ...SOURCES, 'core/b.ts': '' }),
      tree('lock', { ...SOURCES, 'package-lock.json': '{ }' }),
    ];
    for (const dir of variants) expect(sourcesHash(dir, ['infra', 'core', 'package-lock.json'], 'x')).not.toBe(base);
    const { 'core/a.ts': a, ...rest } = SOURCES;
    const renamed = tree('renamed', { ...rest, 'core/c.ts': a });
    expect(sourcesHash(renamed, ['infra', 'core', 'package-lock.json'], 'x')).not.toBe(base);
    expect(sourcesHash(tree('same-3', SOURCES), ['infra', 'core', 'package-lock.json'], 'y')).not.toBe(base);
  });

  it('ignores caches beside the sources (bytecode, node_modules)', () => {
    const base = sourcesHash(tree('clean', SOURCES), ['infra', 'core'], '');
    const cached = tree('caches', {
      ...SOURCES,
      'core/__pycache__/a.cpython-311.pyc': 'x',
      'core/node_modules/p/index.js': 'x',
    });
    expect(sourcesHash(cached, ['infra', 'core'], '')).toBe(base);
  });
});

describe('a value cached on disk', () => {
  it('is produced once, then read back equal without producing it', async () => {
    const dir = join(root, 'cache-once');
    let made = 0;
    const produce = () => {
      made += 1;
      return { Resources: { A: { Type: 'X' } } };
    };
    const first = await cachedJson(dir, 'k1', produce);
    const second = await cachedJson(dir, 'k1', produce);
    expect(made).toBe(1);
    expect(second).toEqual(first);
    // Another key is another template.
    await cachedJson(dir, 'k2', produce);
    expect(made).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(['k1.json', 'k2.json']);
  });

  it(`is produced again when ${NO_SYNTH_CACHE_ENV}=1`, async () => {
    const dir = join(root, 'cache-off');
    let made = 0;
    await cachedJson(dir, 'k', () => ++made);
    process.env[NO_SYNTH_CACHE_ENV] = '1';
    expect(await cachedJson(dir, 'k', () => ++made)).toBe(2);
  });
});

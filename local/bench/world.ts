/** A benchmark world folder (docs/worlds.md): its files, its name and answer pattern, and whether it has an oracle. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface BenchWorld {
  dir: string;
  name: string;
  answerPattern?: string;
  train: string;
  test: string;
  seeds: string;
  corpus: string | null;
  hasOracle: boolean;
}

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();

export function readWorld(folder: string): BenchWorld {
  const dir = resolve(folder);
  const metaPath = join(dir, 'world.json');
  if (!isFile(metaPath)) throw new Error(`${dir}: no world.json (docs/worlds.md)`);
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { name?: unknown; answerPattern?: unknown };
  if (typeof meta.name !== 'string' || !meta.name) throw new Error(`${metaPath}: "name" must be a non-empty string`);
  if (meta.answerPattern !== undefined && typeof meta.answerPattern !== 'string')
    throw new Error(`${metaPath}: "answerPattern" must be a string`);
  const files = { train: join(dir, 'train.jsonl'), test: join(dir, 'test.jsonl'), seeds: join(dir, 'seeds.jsonl') };
  for (const [what, path] of Object.entries(files)) if (!isFile(path)) throw new Error(`${dir}: no ${what}.jsonl`);
  const corpus = join(dir, 'corpus.jsonl');
  return {
    dir,
    name: meta.name,
    answerPattern: meta.answerPattern as string | undefined,
    ...files,
    corpus: isFile(corpus) ? corpus : null,
    hasOracle: isFile(join(dir, 'oracle.py')),
  };
}

/** Share of test prompts that occur verbatim in the train set: does the world measure recall or generalisation? */
export function verbatimShare(testPrompts: string[], trainPrompts: string[]): number | null {
  if (testPrompts.length === 0) return null;
  const seen = new Set(trainPrompts);
  return testPrompts.filter((p) => seen.has(p)).length / testPrompts.length;
}

/** The prompts of a JSONL file (records without a string prompt are skipped). */
export function promptsOf(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => (JSON.parse(line) as { prompt?: unknown }).prompt)
    .filter((p): p is string => typeof p === 'string');
}

/**
 * A synthesized template, kept on disk under a hash of the sources that build it. Synthesizing
 * the CDK app costs seconds of CPU on every local run and in every test file that reads the
 * template, while the template only changes when those sources do. Local mode and tests only:
 * `cdk synth` and deployments always synthesize.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * What a template depends on: the stack's code, the contract and config it builds the state
 * machine from, the handlers and job package it points at, and the pinned CDK version.
 */
export const SYNTH_SOURCES = ['infra', 'core', 'functions', 'jobs', 'package-lock.json'];

/** Folders that hold no source (caches, virtual environments). */
const SKIPPED = new Set(['node_modules', '__pycache__', '.pytest_cache', '.ruff_cache', 'mutants', '.venv']);

/** Set to 1 to synthesize every time (e.g. to time synthesis itself). */
export const NO_SYNTH_CACHE_ENV = 'REWARDDS_NO_SYNTH_CACHE';

function filesUnder(root: string, path: string): string[] {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { withFileTypes: true })
    .filter((entry) => !SKIPPED.has(entry.name) && !entry.name.endsWith('.pyc'))
    .flatMap((entry) => filesUnder(root, join(path, entry.name)));
}

/**
 * One hash over every source file's path and bytes under `sources` (relative to `root`), plus
 * `extra` (what the caller passes to the stack, the Node version).
 */
export function sourcesHash(root: string, sources: string[], extra: string): string {
  const hash = createHash('sha256').update(extra).update('\0');
  for (const path of sources.flatMap((s) => filesUnder(root, s)).sort()) {
    hash
      .update(relative(root, join(root, path)))
      .update('\0')
      .update(readFileSync(join(root, path)))
      .update('\0');
  }
  return hash.digest('hex').slice(0, 32);
}

/** Returns `<dir>/<key>.json` when present; otherwise produces the value, stores it there and returns it. */
export async function cachedJson<T>(dir: string, key: string, produce: () => T | Promise<T>): Promise<T> {
  const file = join(dir, `${key}.json`);
  if (process.env[NO_SYNTH_CACHE_ENV] !== '1' && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as T;
  const value = await produce();
  mkdirSync(dir, { recursive: true });
  // Written aside and renamed, so a reader never sees half a file (tests synthesize side by side).
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, JSON.stringify(value));
  renameSync(partial, file);
  return value;
}

/** Where the templates are kept: beside the installed packages, which they are only valid with. */
export const synthCacheDir = (root: string) => join(root, 'node_modules', '.cache', 'rewardds-synth');

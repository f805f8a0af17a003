/**
 * core/ is the domain logic with no AWS SDK, no Powertools, no CDK and no I/O (docs/architecture.md):
 * this scan keeps it so, and keeps everyone else going through each core folder's barrel.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/python.js';

interface ImportRef {
  spec: string;
  typeOnly: boolean;
}

/** Every module specifier a TypeScript file imports or re-exports, static or dynamic. */
function importsOf(source: string): ImportRef[] {
  const refs: ImportRef[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(statement)) refs.push({ spec: m[3] as string, typeOnly: m[2] !== undefined });
  const dynamic = /\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]/g;
  for (const m of source.matchAll(dynamic)) refs.push({ spec: m[1] as string, typeOnly: false });
  return refs;
}

function tsFiles(dir: string): string[] {
  return readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : tsFiles(rel);
    return entry.name.endsWith('.ts') ? [rel] : [];
  });
}

/**
 * Packages core may use. node:crypto only hashes; the two type-only entries are erased at compile
 * time: jsonl reads any Readable, and the request builder is typed against the real SageMaker API
 * so a renamed field fails tsc rather than the first real run.
 */
const ALLOWED = new Set(['zod', 'node:crypto']);
const ALLOWED_TYPE_ONLY = new Set(['node:stream', '@aws-sdk/client-sagemaker']);

function coreViolations(file: string, source: string): string[] {
  return importsOf(source).flatMap(({ spec, typeOnly }) => {
    if (spec.startsWith('.')) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      return target.startsWith('core/') ? [] : [`${file} imports ${spec}, outside core/`];
    }
    if (ALLOWED.has(spec) || (typeOnly && ALLOWED_TYPE_ONLY.has(spec))) return [];
    return [`${file} imports ${typeOnly ? 'type from ' : ''}${spec}`];
  });
}

function barrelViolations(file: string, source: string): string[] {
  return importsOf(source).flatMap(({ spec }) => {
    if (!spec.startsWith('.')) return [];
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
    if (!target.startsWith('core/')) return [];
    return /^core\/[a-z-]+\/index\.js$/.test(target) ? [] : [`${file} imports ${spec}, not a core barrel`];
  });
}

const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');
const OUTSIDE_CORE = ['functions', 'infra', 'cli', 'bench', 'local', 'test', 'examples'];

describe('the core package', () => {
  it('imports no AWS SDK, Powertools, CDK or I/O module, and nothing outside core/', () => {
    const files = tsFiles('core');
    expect(files.length).toBeGreaterThan(20);
    expect(files.flatMap((file) => coreViolations(file, read(file)))).toEqual([]);
  });

  it('is imported from outside only through a folder barrel, core/<folder>/index.js', () => {
    const files = OUTSIDE_CORE.flatMap(tsFiles);
    expect(files.flatMap((file) => barrelViolations(file, read(file)))).toEqual([]);
  });

  it('each core folder has a barrel', () => {
    const folders = readdirSync(path.join(repoRoot, 'core'), { withFileTypes: true }).filter((e) => e.isDirectory());
    for (const folder of folders) expect(tsFiles(`core/${folder.name}`)).toContain(`core/${folder.name}/index.ts`);
  });

  it('the scan catches what it must', () => {
    const file = 'core/selection/sinks.ts';
    expect(coreViolations(file, "import { S3Client } from '@aws-sdk/client-s3';")).toHaveLength(1);
    expect(coreViolations(file, "import { Logger } from '@aws-lambda-powertools/logger';")).toHaveLength(1);
    expect(coreViolations(file, "import { Stack } from 'aws-cdk-lib';")).toHaveLength(1);
    expect(coreViolations(file, "import { rename } from 'node:fs/promises';")).toHaveLength(1);
    expect(coreViolations(file, "const fs = await import('node:fs');")).toHaveLength(1);
    expect(coreViolations(file, "import { SageMakerClient } from '@aws-sdk/client-sagemaker';")).toHaveLength(1);
    expect(coreViolations(file, "import type { Channel } from '@aws-sdk/client-sagemaker';")).toEqual([]);
    expect(coreViolations(file, "import { s3Uri } from '../../functions/shared/s3-objects.js';")).toHaveLength(1);
    expect(coreViolations(file, "export * from '../contract/index.js';")).toEqual([]);
    expect(barrelViolations('cli/x.ts', "import { gateRound } from '../core/selection/gate.js';")).toHaveLength(1);
    expect(barrelViolations('cli/x.ts', "import { gateRound } from '../core/selection/index.js';")).toEqual([]);
  });
});

/**
 * The CDK app, synthesized in-process for local mode: the same RewardDsStack that
 * `cdk deploy` ships, with the base models pointed at a local models bucket, asset
 * bundling skipped (local mode runs each handler from its TypeScript source, so the
 * bundles would be built for nothing).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findResources, type StackTemplate } from './asl.js';
import { cachedJson, SYNTH_SOURCES, sourcesHash, synthCacheDir } from './synth-cache.js';
import type { SynthesizedApp } from './runner.js';

/** Where local mode keeps the public base models (a bucket the stack reads but does not own). */
export const LOCAL_MODELS = {
  bucket: 'rewardds-local-models',
  proxy: 's3://rewardds-local-models/base/proxy/',
  target: 's3://rewardds-local-models/base/target/',
};

/** Each pipeline Lambda is `functions/<name>/handler.ts`, and says its name in POWERTOOLS_SERVICE_NAME. */
export function handlerEntries(templates: StackTemplate[]): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const { id, resource } of findResources(templates, 'AWS::Lambda::Function')) {
    const service = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
      ?.POWERTOOLS_SERVICE_NAME;
    if (typeof service !== 'string' || !service.startsWith('rewardds-')) continue; // CDK's own helpers (auto-delete, log retention)
    entries[id] = join('functions', service.slice('rewardds-'.length), 'handler.ts');
  }
  return entries;
}

let cached: SynthesizedApp | undefined;

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Synthesizes once per process, and once per change of the sources on this machine: the
 * template does not depend on the run, only on the code that builds it (local/synth-cache.ts).
 */
export async function synthesizeApp(): Promise<SynthesizedApp> {
  if (cached) return cached;
  const key = sourcesHash(REPO_ROOT, [...SYNTH_SOURCES, 'local/app.ts'], `local ${process.version}`);
  const templates = await cachedJson(synthCacheDir(REPO_ROOT), `local-${key}`, synthesizeTemplates);
  cached = { templates, entries: handlerEntries(templates) };
  return cached;
}

/** CDK is imported here, not at the top: a cached template needs none of it (seconds of imports). */
async function synthesizeTemplates(): Promise<StackTemplate[]> {
  const { App } = await import('aws-cdk-lib');
  const { RewardDsStack } = await import('../infra/rewardds-stack.js');
  const outdir = mkdtempSync(join(tmpdir(), 'rewardds-cdk-'));
  try {
    // Local jobs run from jobs/ directly; the image would only be staged and never built,
    // so a one-line context stands in for it (only JOB_IMAGE_URI's hash differs).
    const imageDir = join(outdir, 'image');
    mkdirSync(imageDir);
    writeFileSync(join(imageDir, 'Dockerfile'), 'FROM scratch\n');
    const app = new App({ outdir: join(outdir, 'cdk.out'), context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new RewardDsStack(app, 'RewardDS', {
      settings: { generatorBaseModel: LOCAL_MODELS.proxy, targetBaseModel: LOCAL_MODELS.target },
      jobImageDirectory: imageDir,
    });
    return [app.synth().getStackByName(stack.stackName).template as StackTemplate];
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

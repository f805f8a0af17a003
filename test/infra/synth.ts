/**
 * One synthesized RewardDS stack for a test file. Lambda bundling is skipped (the bundles
 * are measured by `cdk synth`, not here), so a synth takes seconds, not a minute.
 */
import { App, type IPolicyValidationPlugin, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JOBS_DIR } from '../../infra/constructs/job-runtime.js';
import { RewardDsStack, type RewardDsStackProps } from '../../infra/rewardds-stack.js';
import { cachedJson, SYNTH_SOURCES, sourcesHash, synthCacheDir } from '../../local/synth-cache.js';

/**
 * jobs/Dockerfile belongs to the job engineers; until it lands, a stand-in folder lets the
 * image asset synthesize (Docker is needed only at deploy time).
 */
function imageDirectory(): string | undefined {
  if (existsSync(path.join(JOBS_DIR, 'Dockerfile'))) return undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'rewardds-image-'));
  writeFileSync(path.join(dir, 'Dockerfile'), 'FROM public.ecr.aws/docker/library/python:3.11-slim\n');
  return dir;
}

/** The base models every test stack is deployed with (the app requires them; see infra/settings.ts). */
export const TEST_MODELS = {
  bucket: 'rewardds-test-models',
  generatorBaseModel: 's3://rewardds-test-models/base/qwen2.5-0.5b-instruct/',
  targetBaseModel: 's3://rewardds-test-models/base/qwen2.5-7b-instruct/',
};

export function synthStack(
  options: { plugins?: (app: App) => IPolicyValidationPlugin[]; props?: RewardDsStackProps } = {},
) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  if (options.plugins) Validations.of(app).addPlugins(...options.plugins(app));
  const stack = new RewardDsStack(app, 'RewardDS', {
    env: { account: '111122223333', region: 'us-east-1' },
    jobImageDirectory: imageDirectory(),
    ...options.props,
    settings: {
      generatorBaseModel: TEST_MODELS.generatorBaseModel,
      targetBaseModel: TEST_MODELS.targetBaseModel,
      ...options.props?.settings,
    },
  });
  return { app, stack };
}

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The default test stack's template (synthStack() with no options), synthesized once per
 * change of the sources that build it and shared by the test files that only read it.
 */
export async function defaultTemplateJson(): Promise<Record<string, any>> {
  const key = sourcesHash(REPO_ROOT, [...SYNTH_SOURCES, 'test/infra/synth.ts'], `test ${process.version}`);
  return cachedJson(synthCacheDir(REPO_ROOT), `test-${key}`, () => Template.fromStack(synthStack().stack).toJSON());
}

/** Turns the definition's Fn::Join/Ref/GetAtt into plain text: `<LogicalId.Arn>`, `<AWS::Partition>`. */
export function resolveDefinition(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(resolveDefinition).join(sep);
  }
  if ('Ref' in v) return `<${String(v.Ref)}>`;
  if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  throw new Error(`unexpected intrinsic in the definition: ${JSON.stringify(value)}`);
}

export interface AslState {
  Type: string;
  Next?: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  Retry?: { ErrorEquals: string[] }[];
  [key: string]: unknown;
}
export interface Asl {
  StartAt: string;
  States: Record<string, AslState>;
  [key: string]: unknown;
}

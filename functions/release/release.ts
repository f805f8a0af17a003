/**
 * Release (the only private → synthesis bridge): DP models after the privacy gate, and
 * the evaluation's aggregate metrics after the aggregate check. The gate runs before the
 * first byte is copied; privacy.json is written last, so its presence means the release
 * is complete.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  type Models,
  type ReleaseAuditOutput,
  type ReleaseEvaluationOutput,
  type ReleaseModelsOutput,
  type RunState,
  parseS3Uri,
  privateKeys,
  s3Uri,
  synthesisKeys,
} from '../../core/contract/index.js';
import type { MetricsSink } from '../prepare-run/prepare.js';
import type { PrivacyPlan } from '../../core/privacy/index.js';
import { copyObject, getJson, listKeys, putJson } from '../shared/s3-objects.js';
import { randomBytes } from 'node:crypto';
import { AuditNotAggregate, checkAudit } from './audit.js';
import { checkEvaluation, EvaluationNotAggregate, evaluationToRelease } from './evaluation.js';
import { checkRelease, DpMetricsSchema, PrivacyCheckFailed, type DpMetrics, type ModelName } from './privacy-check.js';

export interface ReleaseConfig {
  privateBucket: string;
  synthesisBucket: string;
  synthesisKeyArn?: string;
}

export interface ReleaseDeps {
  s3: S3Client;
  config: ReleaseConfig;
  logger?: Pick<Logger, 'info'>;
  metrics?: MetricsSink;
  now?: () => Date;
  /** Uniform variates in (0, 1) for the evaluation noise; the OS's entropy unless a test gives its own. */
  uniform?: () => number;
}

/**
 * Files of a model folder that never cross: the training metrics hold per-step losses,
 * statistics of the private data computed without DP. Their privacy figures cross inside
 * privacy.json instead.
 */
const STAYS_PRIVATE = new Set(['metrics.json']);

/** A model folder URI in the private bucket, as `{bucket, prefix}` with a trailing slash. */
function modelFolder(name: ModelName, uri: string | undefined, privateBucket: string) {
  if (!uri) throw new PrivacyCheckFailed(`models.${name}: missing; both DP models are needed to release`);
  const { bucket, key } = parseS3Uri(uri);
  if (bucket !== privateBucket) throw new PrivacyCheckFailed(`models.${name}: ${uri} is not in the private bucket`);
  return { bucket, prefix: key.endsWith('/') ? key : `${key}/` };
}

/** The folder's files, relative to it, listed once: the gate and the copy use the same list. */
async function listFolder(deps: ReleaseDeps, folder: { bucket: string; prefix: string }): Promise<string[]> {
  const files: string[] = [];
  for await (const { key } of listKeys(deps.s3, folder.bucket, folder.prefix)) {
    const relative = key.slice(folder.prefix.length);
    if (relative && !relative.endsWith('/')) files.push(relative);
  }
  return files;
}

async function readDpMetrics(
  s3: S3Client,
  name: ModelName,
  folder: { bucket: string; prefix: string },
  files: string[],
): Promise<DpMetrics> {
  const key = `${folder.prefix}metrics.json`;
  // Checked against the listing, not by a GET: a role that may list only its prefixes gets 403 for a missing key.
  if (!files.includes('metrics.json'))
    throw new PrivacyCheckFailed(`models.${name}: no metrics.json in ${s3Uri(folder.bucket, folder.prefix)}`);
  const parsed = DpMetricsSchema.safeParse(await getJson(s3, folder.bucket, key));
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new PrivacyCheckFailed(`${s3Uri(folder.bucket, key)}: ${fields}`);
  }
  return parsed.data;
}

/** Copies every listed file except the private-only ones; returns the relative names. */
async function copyFolder(
  deps: ReleaseDeps,
  from: { bucket: string; prefix: string },
  files: string[],
  toPrefix: string,
): Promise<string[]> {
  const copied: string[] = [];
  for (const relative of files) {
    if (STAYS_PRIVATE.has(relative)) continue;
    await copyObject(
      deps.s3,
      { bucket: from.bucket, key: from.prefix + relative },
      { bucket: deps.config.synthesisBucket, key: toPrefix + relative },
      deps.config.synthesisKeyArn,
    );
    copied.push(relative);
  }
  return copied;
}

export async function releaseModels(
  runId: string,
  run: RunState,
  models: Models | undefined,
  deps: ReleaseDeps,
): Promise<ReleaseModelsOutput> {
  const { config } = deps;
  const folders = {
    generator: modelFolder('generator', models?.generator, config.privateBucket),
    reward: modelFolder('reward', models?.reward, config.privateBucket),
  };
  const files = {
    generator: await listFolder(deps, folders.generator),
    reward: await listFolder(deps, folders.reward),
  };
  for (const name of ['generator', 'reward'] as const) {
    if (!files[name].some((f) => !STAYS_PRIVATE.has(f))) {
      throw new PrivacyCheckFailed(
        `models.${name}: ${s3Uri(folders[name].bucket, folders[name].prefix)} holds no model files to release`,
      );
    }
  }
  const metrics = {
    generator: await readDpMetrics(deps.s3, 'generator', folders.generator, files.generator),
    reward: await readDpMetrics(deps.s3, 'reward', folders.reward, files.reward),
  };
  // The gate: throws before anything is copied.
  const verdict = checkRelease(metrics, run.plan as unknown as PrivacyPlan, run.records);

  const released: Record<ModelName, string[]> = { generator: [], reward: [] };
  for (const name of ['generator', 'reward'] as const) {
    released[name] = await copyFolder(deps, folders[name], files[name], synthesisKeys.releasePrefix(runId, name));
  }
  const privacyKey = synthesisKeys.privacy(runId);
  await putJson(
    deps.s3,
    config.synthesisBucket,
    privacyKey,
    { runId, ...verdict, released, releasedAt: (deps.now?.() ?? new Date()).toISOString() },
    config.synthesisKeyArn,
  );
  deps.metrics?.addMetric('ReleasedEpsilon', 'None', verdict.epsilon);
  deps.logger?.info('DP models released', {
    runId,
    epsilon: verdict.epsilon,
    delta: verdict.delta,
    target: verdict.targetEpsilon,
  });
  return { epsilon: verdict.epsilon, delta: verdict.delta, privacyUri: s3Uri(config.synthesisBucket, privacyKey) };
}

/**
 * A uniform variate in (0, 1) from the operating system's entropy: the noise must be
 * secret, so never the run's seed (docs/privacy.md, "Secret noise").
 */
export function osUniform(): number {
  const bits = Number(randomBytes(8).readBigUInt64BE() >> 11n); // 53 random bits
  return (bits + 0.5) / 2 ** 53;
}

/** A job's JSON file in the private bucket; a body that is not JSON throws `NotAggregate` naming the key only. */
async function readPrivateJson(
  deps: ReleaseDeps,
  key: string,
  NotAggregate: new (message: string) => Error,
): Promise<unknown> {
  try {
    return await getJson(deps.s3, deps.config.privateBucket, key);
  } catch (error) {
    if (error instanceof SyntaxError) throw new NotAggregate(`${key}: not valid JSON`);
    throw error;
  }
}

export async function releaseEvaluation(
  runId: string,
  run: RunState,
  deps: ReleaseDeps,
): Promise<ReleaseEvaluationOutput> {
  const { config } = deps;
  const from = privateKeys.evalMetrics(runId);
  const value = await readPrivateJson(deps, from, EvaluationNotAggregate);
  // Re-serialized from the parsed value: the aggregate rows cross, nothing more. The job's own
  // bookkeeping (`seconds`, its wall time) stays: the time to answer every private test
  // prompt is a function of those prompts without DP.
  const checked = checkEvaluation(value, from);
  const metrics = evaluationToRelease(
    checked,
    {
      minTestRecords: run.config.evaluation.minTestRecords,
      reservation: (run.plan as unknown as PrivacyPlan).evaluation,
    },
    deps.uniform ?? osUniform,
  );
  const to = synthesisKeys.evalMetrics(runId);
  await putJson(deps.s3, config.synthesisBucket, to, metrics, config.synthesisKeyArn);
  deps.logger?.info('evaluation metrics released', {
    runId,
    rows: metrics.rows.length,
    withheld: metrics.withheld !== undefined,
    noise: metrics.noise?.mechanism ?? 'off',
  });
  return { metricsUri: s3Uri(config.synthesisBucket, to) };
}

/**
 * The canary audit's aggregates: exposures, AUC, the scan count. They are computed from the DP
 * generator and the canaries, which are random values of our own, not records of the user, so
 * they are post-processing of a released model as far as the user's records go (docs/privacy.md).
 */
export async function releaseAudit(runId: string, run: RunState, deps: ReleaseDeps): Promise<ReleaseAuditOutput> {
  const { config } = deps;
  const from = privateKeys.auditMetrics(runId);
  const value = await readPrivateJson(deps, from, AuditNotAggregate);
  const released = checkAudit(value, from);
  if (released.canaries !== run.config.privacy.audit.canaries)
    throw new AuditNotAggregate(`${from}: canaries: not the run's privacy.audit.canaries`);
  const to = synthesisKeys.auditMetrics(runId);
  await putJson(deps.s3, config.synthesisBucket, to, released, config.synthesisKeyArn);
  deps.logger?.info('canary audit released', { runId, canaries: released.canaries });
  return { metricsUri: s3Uri(config.synthesisBucket, to) };
}

/**
 * Describe job Lambda: `{job, state, models}` → `$.jobStatus`. Polled by the state
 * machine's Wait/Choice loop. A job that ended Failed or Stopped throws JobFailed with its
 * reason, so the execution shows why; a finished job's timing record is written for the
 * report, and a finished training job's model is added to the models.
 *
 * A private-zone job's timing and raw failure reason are non-DP functions of the records:
 * its record goes to the private bucket (write-only for this Lambda), nothing of its timing
 * reaches a log line or a metric, and its failure crosses as one phrase of a fixed
 * vocabulary (core/contract/failure-reasons.ts).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { readEnv } from '../../core/config/index.js';
import { flushingMetrics } from '../shared/lambda-wiring.js';
import { type JobLambdaDeps, wireJobLambda } from '../shared/job-lambda.js';
import {
  DescribeJobInputSchema,
  parseEvent,
  type DescribeJobOutput,
  type JobRecord,
  type JobRef,
  type Models,
  privateJobReason,
  privateKeys,
  PRIVATE_JOB_REASONS,
  synthesisKeys,
} from '../../core/contract/index.js';
import { putJson } from '../shared/s3-objects.js';
import { describeJobStatus, type JobDescription } from '../shared/job-status.js';
import { JobFailed } from '../shared/sagemaker-errors.js';
import { nextPollSeconds } from '../../core/sagemaker/index.js';

export interface DescribeJobConfig {
  synthesisBucket: string;
  synthesisKeyArn: string;
  privateBucket: string;
  privateKeyArn: string;
}

export interface DescribeJobDeps extends JobLambdaDeps<DescribeJobConfig> {
  /** The clock the next poll's wait is computed from (tests pass a fixed one). */
  now?: () => number;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): DescribeJobConfig {
  return readEnv(env, {
    synthesisBucket: z.string().min(3),
    synthesisKeyArn: z.string().min(1),
    privateBucket: z.string().min(3),
    privateKeyArn: z.string().min(1),
  });
}

/** The models with this training job's artifact in its slot; other jobs leave them as they are. */
export function withModel(models: Models, job: JobRef, modelUri: string): Models {
  switch (job.stage) {
    case 'train-generator':
      return { ...models, generator: modelUri };
    case 'train-reward':
      return { ...models, reward: modelUri };
    case 'train-target': {
      const round = job.round ?? 0;
      const target = [...(models.target ?? [])];
      if (round > target.length)
        throw new Error(`describe-job: models.target has ${target.length} rounds; cannot add round ${round}`);
      target[round] = modelUri;
      return { ...models, target };
    }
    default:
      return models;
  }
}

function jobRecord(job: JobRef, state: string, d: JobDescription): JobRecord {
  return {
    jobName: job.jobName,
    stage: job.stage,
    round: job.round,
    state,
    zone: job.zone,
    kind: job.kind,
    start: d.start?.toISOString() ?? null,
    end: d.end?.toISOString() ?? null,
    billableSeconds: d.billableSeconds ?? null,
    instanceType: d.instanceType ?? null,
    instanceCount: d.instanceCount ?? null,
    spot: d.spot,
  };
}

/** Each zone's record to its own bucket, with its own key. */
async function putJobRecord(deps: DescribeJobDeps, job: JobRef, record: JobRecord): Promise<void> {
  const { config } = deps;
  // The record stays in its job's own zone: a private job's record never reaches the synthesis bucket.
  const target =
    job.zone === 'private'
      ? { bucket: config.privateBucket, key: privateKeys.jobRecord(job.runId, job.jobName), kms: config.privateKeyArn }
      : {
          bucket: config.synthesisBucket,
          key: synthesisKeys.jobRecord(job.runId, job.jobName),
          kms: config.synthesisKeyArn,
        };
  await putJson(deps.s3, target.bucket, target.key, record, target.kms);
}

/** A private job's failure crosses as a phrase; the raw reason goes to its private record. */
async function jobFailed(deps: DescribeJobDeps, job: JobRef, state: string, d: JobDescription): Promise<JobFailed> {
  deps.metrics?.addDimension('stage', job.stage);
  deps.metrics?.addMetric('JobsFailed', MetricUnit.Count, 1);
  if (job.zone !== 'private')
    return new JobFailed(`${state}: ${job.jobName} ${d.status}: ${d.failureReason ?? 'no reason given'}`);
  const reason = d.status === 'Completed' ? PRIVATE_JOB_REASONS.noModel : privateJobReason(d.status, d.failureReason);
  await putJobRecord(deps, job, {
    ...jobRecord(job, state, d),
    status: d.status,
    failureReason: d.failureReason ?? null,
  });
  return new JobFailed(`${state}: ${job.jobName} ${d.status}: ${reason}`);
}

export async function describeJob(event: unknown, deps: DescribeJobDeps): Promise<DescribeJobOutput> {
  const { job, state, models } = parseEvent(DescribeJobInputSchema, event, 'describe-job');
  const d = await describeJobStatus(deps.sagemaker, job);

  if (d.status === 'Failed' || d.status === 'Stopped') throw await jobFailed(deps, job, state, d);
  if (d.status === 'InProgress' || d.status === 'Stopping') {
    const elapsed = d.created ? ((deps.now ?? Date.now)() - d.created.getTime()) / 1000 : 0;
    return {
      status: d.status,
      failureReason: null,
      modelUri: null,
      models,
      waitSeconds: nextPollSeconds(elapsed, d.limitSeconds),
    };
  }
  if (d.status !== 'Completed') throw new Error(`describe-job: ${job.jobName} has unknown status ${d.status}`);

  if (job.kind === 'training' && !d.modelUri) {
    if (job.zone === 'private') throw await jobFailed(deps, job, state, d);
    throw new JobFailed(`${state}: ${job.jobName} Completed without ModelArtifacts`);
  }
  const record = jobRecord(job, state, d);
  await putJobRecord(deps, job, record);
  deps.metrics?.addDimension('stage', job.stage);
  if (job.zone === 'private') {
    deps.logger?.info('job completed', { jobName: job.jobName, stage: job.stage, zone: job.zone });
  } else {
    deps.logger?.info('job completed', { ...record });
    if (record.billableSeconds !== null)
      deps.metrics?.addMetric('JobBillableSeconds', MetricUnit.Seconds, record.billableSeconds);
  }

  const modelUri = job.kind === 'training' ? d.modelUri! : null;
  return {
    status: 'Completed',
    failureReason: null,
    modelUri,
    models: modelUri ? withModel(models, job, modelUri) : models,
    waitSeconds: null,
  };
}

export const createHandler = flushingMetrics<DescribeJobDeps, DescribeJobOutput>(describeJob);

export const handler = wireJobLambda('describe-job', createHandler, configFromEnv);

/**
 * Describe job Lambda: `{job, state, models}` → `$.jobStatus`. Polled by the state
 * machine's Wait/Choice loop. A job that ended Failed or Stopped throws JobFailed with its
 * reason, so the execution shows why; a finished job's timing record is written for the
 * report, and a finished training job's model is added to the models.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { flushingMetrics, powertools, wireOnFirstCall } from '../shared/lambda-wiring.js';
import {
  DescribeJobInputSchema,
  parseEvent,
  type DescribeJobOutput,
  type JobRecord,
  type JobRef,
  type Models,
  synthesisKeys,
} from '../../core/contract/index.js';
import { createS3Client, putJson } from '../shared/s3-objects.js';
import { describeJobStatus } from '../shared/job-status.js';
import { JobFailed } from '../shared/sagemaker-errors.js';
import { nextPollSeconds } from '../../core/sagemaker/index.js';

export interface DescribeJobConfig {
  synthesisBucket: string;
  synthesisKeyArn: string;
}

export interface DescribeJobDeps {
  sagemaker: Pick<SageMakerClient, 'send'>;
  s3: S3Client;
  config: DescribeJobConfig;
  now?: () => number;
  logger?: Pick<Logger, 'info'>;
  metrics?: Pick<Metrics, 'addMetric' | 'addDimension' | 'publishStoredMetrics'>;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): DescribeJobConfig {
  const e = z.object({ SYNTHESIS_BUCKET: z.string().min(3), SYNTHESIS_KEY_ARN: z.string().min(1) }).parse(env);
  return { synthesisBucket: e.SYNTHESIS_BUCKET, synthesisKeyArn: e.SYNTHESIS_KEY_ARN };
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

export async function describeJob(event: unknown, deps: DescribeJobDeps): Promise<DescribeJobOutput> {
  const { job, state, models } = parseEvent(DescribeJobInputSchema, event, 'describe-job');
  const d = await describeJobStatus(deps.sagemaker, job);

  if (d.status === 'Failed' || d.status === 'Stopped') {
    deps.metrics?.addDimension('stage', job.stage);
    deps.metrics?.addMetric('JobsFailed', MetricUnit.Count, 1);
    throw new JobFailed(`${state}: ${job.jobName} ${d.status}: ${d.failureReason ?? 'no reason given'}`);
  }
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

  if (job.kind === 'training' && !d.modelUri)
    throw new JobFailed(`${state}: ${job.jobName} Completed without ModelArtifacts`);
  const record: JobRecord = {
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
  await putJson(
    deps.s3,
    deps.config.synthesisBucket,
    synthesisKeys.jobRecord(job.runId, job.jobName),
    record,
    deps.config.synthesisKeyArn,
  );
  deps.logger?.info('job completed', { ...record });
  deps.metrics?.addDimension('stage', job.stage);
  if (record.billableSeconds !== null)
    deps.metrics?.addMetric('JobBillableSeconds', MetricUnit.Seconds, record.billableSeconds);

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

const sagemaker = new SageMakerClient({});
const s3 = createS3Client();
const { logger, metrics } = powertools('describe-job');

export const handler = wireOnFirstCall(() =>
  createHandler({ sagemaker, s3, config: configFromEnv(), logger, metrics }),
);

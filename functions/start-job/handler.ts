/**
 * Start job Lambda: `{runId, stage, round?, run, models}` → `$.job`. Writes the stage's
 * config.json, then starts the one SageMaker job the request builder describes.
 *
 * Job names are deterministic: `<prefix><stage><round>-<run hash>-a<attempt>`. Before
 * creating, start-job describes each attempt's name in turn: a job that ended Failed or
 * Stopped was an earlier attempt (the next number is tried); a job still running or
 * Completed with the same request is adopted, so a Lambda retried after its create call
 * succeeded (or a resumed run, docs/operations.md) never leaves a second job billing; the
 * same name with a different request is refused.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { CreateProcessingJobCommand, CreateTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import { readEnv } from '../../core/config/index.js';
import { flushingMetrics } from '../shared/lambda-wiring.js';
import { type JobLambdaDeps, wireJobLambda } from '../shared/job-lambda.js';
import { parseEvent, StartJobInputSchema, type StartJobOutput } from '../../core/contract/index.js';
import { putJson } from '../shared/s3-objects.js';
import { callSageMaker } from '../shared/sagemaker-errors.js';
import {
  buildJobRequest,
  type JobRequest,
  jobName,
  JobRequestError,
  MAX_JOB_ATTEMPTS,
  type JobEnvironment,
} from '../../core/sagemaker/index.js';
import { differences, findJob } from './existing-job.js';

export interface StartJobConfig extends JobEnvironment {
  /** Base models must lie under this S3 URI prefix: the only place the job roles may read models from. */
  modelsPrefix: string;
  /** Every job name starts with it; start-job's IAM scope is `<prefix>*` (derived from the stack name). */
  jobNamePrefix: string;
}

export type StartJobDeps = JobLambdaDeps<StartJobConfig>;

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): StartJobConfig {
  const e = readEnv(env, {
    privateBucket: z.string().min(3),
    synthesisBucket: z.string().min(3),
    privateKeyArn: z.string().min(1),
    synthesisKeyArn: z.string().min(1),
    jobImageUri: z.string().min(1),
    privateJobRoleArn: z.string().min(1),
    synthesisJobRoleArn: z.string().min(1),
    proxyBaseModelUri: z.string().startsWith('s3://'),
    targetBaseModelUri: z.string().startsWith('s3://'),
    modelsPrefixUri: z.string().startsWith('s3://'),
    jobNamePrefix: z.string().min(2),
  });
  return {
    imageUri: e.jobImageUri,
    roleArns: { private: e.privateJobRoleArn, synthesis: e.synthesisJobRoleArn },
    buckets: { private: e.privateBucket, synthesis: e.synthesisBucket },
    kmsKeyArns: { private: e.privateKeyArn, synthesis: e.synthesisKeyArn },
    baseModels: { proxy: e.proxyBaseModelUri, target: e.targetBaseModelUri },
    modelsPrefix: e.modelsPrefixUri,
    jobNamePrefix: e.jobNamePrefix,
  };
}

/** A base model outside the models prefix would fail inside the job with AccessDenied; say so before it starts. */
function checkBaseModels(
  input: {
    run: {
      config: { generator: { baseModel?: string }; reward: { baseModel?: string }; target: { baseModel?: string } };
    };
  },
  prefix: string,
) {
  const under = prefix.endsWith('/') ? prefix : `${prefix}/`;
  for (const key of ['generator', 'reward', 'target'] as const) {
    const uri = input.run.config[key].baseModel;
    if (uri !== undefined && !uri.startsWith(under)) {
      throw new JobRequestError(
        `run.config.${key}.baseModel: must lie under ${under} (the models location the job roles can read)`,
      );
    }
  }
}

export async function startJob(event: unknown, deps: StartJobDeps): Promise<StartJobOutput> {
  const input = parseEvent(StartJobInputSchema, event, 'start-job');
  if (input.run.runId !== input.runId)
    throw new JobRequestError(`start-job: runId '${input.runId}' does not match run.runId '${input.run.runId}'`);
  checkBaseModels(input, deps.config.modelsPrefix);
  const round = input.round ?? 0;
  const build = (name: string) =>
    buildJobRequest({
      runId: input.runId,
      stage: input.stage,
      round,
      jobName: name,
      run: input.run,
      models: input.models,
      env: deps.config,
    });

  let built: JobRequest | undefined;
  let adopted = false;
  for (let attempt = 0; attempt < MAX_JOB_ATTEMPTS && !built; attempt += 1) {
    const candidate = build(jobName(deps.config.jobNamePrefix, input.runId, input.stage, round, attempt));
    const existing = await findJob(deps.sagemaker, candidate.kind, nameOf(candidate));
    if (!existing) {
      built = candidate;
    } else if (existing.status !== 'Failed' && existing.status !== 'Stopped') {
      const differ = differences(existing, candidate);
      if (differ.length > 0)
        throw new JobRequestError(
          `${input.stage}: job ${nameOf(candidate)} already exists (${existing.status}) with a different ${differ.join(', ')}; refusing to adopt or replace it`,
        );
      built = candidate;
      adopted = true;
    }
  }
  if (!built)
    throw new JobRequestError(
      `${input.stage}: all ${MAX_JOB_ATTEMPTS} attempts of this stage have ended Failed or Stopped`,
    );
  const name = nameOf(built);

  if (!adopted) {
    // The job reads its config as an input, so it must exist before the job starts.
    await putJson(deps.s3, built.config.bucket, built.config.key, built.config.body, built.config.kmsKeyArn);
    if (built.kind === 'training') {
      await callSageMaker(() => deps.sagemaker.send(new CreateTrainingJobCommand(built.request)));
    } else {
      await callSageMaker(() => deps.sagemaker.send(new CreateProcessingJobCommand(built.request)));
    }
  }
  deps.logger?.info(adopted ? 'job adopted' : 'job started', {
    runId: input.runId,
    stage: input.stage,
    round,
    jobName: name,
    kind: built.kind,
    zone: built.zone,
  });
  deps.metrics?.addDimension('stage', input.stage);
  if (!adopted) deps.metrics?.addMetric('JobsStarted', MetricUnit.Count, 1);
  return {
    jobName: name,
    kind: built.kind,
    stage: input.stage,
    zone: built.zone,
    runId: input.runId,
    round: input.round ?? null,
  };
}

const nameOf = (built: JobRequest) =>
  built.kind === 'training' ? built.request.TrainingJobName! : built.request.ProcessingJobName!;

export const createHandler = flushingMetrics<StartJobDeps, StartJobOutput>(startJob);

export const handler = wireJobLambda('start-job', createHandler, configFromEnv);

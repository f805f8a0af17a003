/**
 * Describe-before-create: job names are deterministic per attempt (core/sagemaker), so a
 * start-job retried after its create call succeeded finds the job it started. This module
 * finds that job and tells whether it is the same request, by the fields that decide what
 * the job does.
 */
import type {
  DescribeProcessingJobCommandOutput,
  DescribeTrainingJobCommandOutput,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { CONFIG_HASH_VARIABLE, type JobRequest } from '../../core/sagemaker/index.js';
import { type DescribedJob, describeJob } from '../shared/job-status.js';

export type ExistingJob = DescribedJob & { status: string };

/** SageMaker answers a Describe of a missing job with ValidationException ("…not found"), or ResourceNotFound. */
function isMissing(error: unknown): boolean {
  const { name, message } = (error ?? {}) as { name?: string; message?: string };
  if (name === 'ResourceNotFound') return true;
  return name === 'ValidationException' && /not found|could not find|does not exist/i.test(message ?? '');
}

export async function findJob(
  sagemaker: Pick<SageMakerClient, 'send'>,
  kind: JobRequest['kind'],
  name: string,
): Promise<ExistingJob | undefined> {
  try {
    const job = await describeJob(sagemaker, kind, name);
    const status = job.kind === 'training' ? job.described.TrainingJobStatus : job.described.ProcessingJobStatus;
    return { ...job, status: status ?? 'Unknown' };
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** What decides a job's work: who runs it, on what, reading and writing where, with which config.json. */
interface Signature {
  role?: string;
  image?: string;
  instanceType?: string;
  inputs: Record<string, string | undefined>;
  outputs: Record<string, string | undefined>;
  configHash?: string;
  maxRuntime?: number;
}

type TrainingFields = Partial<
  Pick<
    DescribeTrainingJobCommandOutput,
    | 'RoleArn'
    | 'AlgorithmSpecification'
    | 'ResourceConfig'
    | 'InputDataConfig'
    | 'OutputDataConfig'
    | 'Environment'
    | 'StoppingCondition'
  >
>;
type ProcessingFields = Partial<
  Pick<
    DescribeProcessingJobCommandOutput,
    | 'RoleArn'
    | 'AppSpecification'
    | 'ProcessingResources'
    | 'ProcessingInputs'
    | 'ProcessingOutputConfig'
    | 'Environment'
    | 'StoppingCondition'
  >
>;
type Fields = { kind: 'training'; request: TrainingFields } | { kind: 'processing'; request: ProcessingFields };

/** The Describe outputs carry the Create fields under the same names, so one function reads both. */
export function requestSignature(built: Fields): Signature {
  if (built.kind === 'training') {
    const r = built.request;
    return {
      role: r.RoleArn,
      image: r.AlgorithmSpecification?.TrainingImage,
      instanceType: r.ResourceConfig?.InstanceType,
      inputs: Object.fromEntries(
        (r.InputDataConfig ?? []).map((c) => [c.ChannelName!, c.DataSource?.S3DataSource?.S3Uri]),
      ),
      outputs: { model: r.OutputDataConfig?.S3OutputPath },
      configHash: r.Environment?.[CONFIG_HASH_VARIABLE],
      maxRuntime: r.StoppingCondition?.MaxRuntimeInSeconds,
    };
  }
  const r = built.request;
  return {
    role: r.RoleArn,
    image: r.AppSpecification?.ImageUri,
    instanceType: r.ProcessingResources?.ClusterConfig?.InstanceType,
    inputs: Object.fromEntries((r.ProcessingInputs ?? []).map((i) => [i.InputName!, i.S3Input?.S3Uri])),
    outputs: Object.fromEntries(
      (r.ProcessingOutputConfig?.Outputs ?? []).map((o) => [o.OutputName!, o.S3Output?.S3Uri]),
    ),
    configHash: r.Environment?.[CONFIG_HASH_VARIABLE],
    maxRuntime: r.StoppingCondition?.MaxRuntimeInSeconds,
  };
}

export const describedSignature = (job: ExistingJob): Signature =>
  job.kind === 'training'
    ? requestSignature({ kind: 'training', request: job.described })
    : requestSignature({ kind: 'processing', request: job.described });

/** The names of the signature fields in which the existing job differs from the request; empty when it is the same job. */
export function differences(existing: ExistingJob, built: JobRequest): string[] {
  const a = describedSignature(existing) as unknown as Record<string, unknown>;
  const b = requestSignature(built) as unknown as Record<string, unknown>;
  const canon = (v: unknown) =>
    JSON.stringify(v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort()) : v);
  return Object.keys(b).filter((key) => canon(a[key]) !== canon(b[key]));
}

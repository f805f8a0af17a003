/**
 * One shape for both Describe*Job outputs: status, the reason a job failed or stopped, its
 * model and its timing. Used by describe-job (polling), record-failure (is it running?) and
 * start-job (does the job it would create already exist?).
 */
import {
  DescribeProcessingJobCommand,
  DescribeTrainingJobCommand,
  type DescribeProcessingJobCommandOutput,
  type DescribeTrainingJobCommandOutput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { JobRef } from '../../core/contract/index.js';
import { callSageMaker } from './sagemaker-errors.js';

export interface JobDescription {
  status: string;
  failureReason: string | undefined;
  modelUri: string | undefined;
  start: Date | undefined;
  end: Date | undefined;
  billableSeconds: number | undefined;
  instanceType: string | undefined;
  instanceCount: number | undefined;
  spot: boolean;
  created: Date | undefined;
  /** The longest SageMaker lets the job take: MaxWaitTimeInSeconds for spot training, else MaxRuntimeInSeconds. */
  limitSeconds: number | undefined;
}

export function fromTraining(out: DescribeTrainingJobCommandOutput): JobDescription {
  const status = out.TrainingJobStatus ?? 'Unknown';
  let failureReason = out.FailureReason;
  if (status === 'Stopped' && !failureReason) {
    // SageMaker stops a job at MaxRuntimeInSeconds without a FailureReason; name the limit.
    failureReason =
      out.SecondaryStatus === 'MaxRuntimeExceeded' || out.SecondaryStatus === 'MaxWaitTimeExceeded'
        ? `${out.SecondaryStatus} (MaxRuntimeInSeconds ${out.StoppingCondition?.MaxRuntimeInSeconds ?? '?'})`
        : `stopped before it finished (${out.SecondaryStatus ?? 'no secondary status'})`;
  }
  return {
    status,
    failureReason,
    modelUri: out.ModelArtifacts?.S3ModelArtifacts,
    start: out.TrainingStartTime,
    end: out.TrainingEndTime,
    billableSeconds: out.BillableTimeInSeconds ?? seconds(out.TrainingStartTime, out.TrainingEndTime),
    instanceType: out.ResourceConfig?.InstanceType,
    instanceCount: out.ResourceConfig?.InstanceCount,
    spot: out.EnableManagedSpotTraining ?? false,
    created: out.CreationTime,
    limitSeconds: out.StoppingCondition?.MaxWaitTimeInSeconds ?? out.StoppingCondition?.MaxRuntimeInSeconds,
  };
}

export function fromProcessing(out: DescribeProcessingJobCommandOutput): JobDescription {
  const status = out.ProcessingJobStatus ?? 'Unknown';
  // A processing container reports through /opt/ml/output/message (ExitMessage); FailureReason
  // is then SageMaker's generic "AlgorithmError: See job logs", so the container's words come first.
  let failureReason =
    (status === 'Failed' && out.ExitMessage?.trim() ? out.ExitMessage : undefined) ?? out.FailureReason;
  if (status === 'Stopped' && !failureReason) {
    failureReason = `stopped before it finished (MaxRuntimeInSeconds ${out.StoppingCondition?.MaxRuntimeInSeconds ?? '?'}, or a stop request)`;
  }
  return {
    status,
    failureReason,
    modelUri: undefined,
    start: out.ProcessingStartTime,
    end: out.ProcessingEndTime,
    // Processing jobs are billed for their run time; SageMaker reports no separate figure.
    billableSeconds: seconds(out.ProcessingStartTime, out.ProcessingEndTime),
    instanceType: out.ProcessingResources?.ClusterConfig?.InstanceType,
    instanceCount: out.ProcessingResources?.ClusterConfig?.InstanceCount,
    spot: false,
    created: out.CreationTime,
    limitSeconds: out.StoppingCondition?.MaxRuntimeInSeconds,
  };
}

const seconds = (start?: Date, end?: Date) =>
  start && end ? Math.round((end.getTime() - start.getTime()) / 1000) : undefined;

/** A job's raw Describe*Job output, tagged by its kind; errors pass through callSageMaker. */
export type DescribedJob =
  | { kind: 'training'; described: DescribeTrainingJobCommandOutput }
  | { kind: 'processing'; described: DescribeProcessingJobCommandOutput };

export async function describeJob(
  sagemaker: Pick<SageMakerClient, 'send'>,
  kind: JobRef['kind'],
  jobName: string,
): Promise<DescribedJob> {
  if (kind === 'training') {
    const described = await callSageMaker(() =>
      sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName })),
    );
    return { kind, described };
  }
  const described = await callSageMaker(() =>
    sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: jobName })),
  );
  return { kind, described };
}

export async function describeJobStatus(
  sagemaker: Pick<SageMakerClient, 'send'>,
  job: Pick<JobRef, 'kind' | 'jobName'>,
): Promise<JobDescription> {
  const described = await describeJob(sagemaker, job.kind, job.jobName);
  return described.kind === 'training' ? fromTraining(described.described) : fromProcessing(described.described);
}

/**
 * What a Create…Job request tells the local backend beyond its channels: which stage it
 * runs and where SageMaker would put its model, and the error shape SageMaker answers a
 * bad request with.
 */
import type { CreateProcessingJobRequest, CreateTrainingJobRequest } from '@aws-sdk/client-sagemaker';

/** A Create…Job request as the local backend keeps it: the kind says which of the two it is. */
export type JobRequest =
  | { kind: 'training'; request: CreateTrainingJobRequest }
  | { kind: 'processing'; request: CreateProcessingJobRequest };

/** The error shape the AWS SDK throws for a service exception, so handlers can match on `name`. */
export class SageMakerLocalError extends Error {
  readonly $fault = 'client' as const;
  readonly $metadata = { httpStatusCode: 400 };
  constructor(name: 'ValidationException' | 'ResourceInUse' | 'ResourceNotFound', message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * Which rewardds_jobs stage a request runs: `HyperParameters.stage` (training), the
 * argument after `rewardds_jobs` in the container arguments, or REWARDDS_STAGE.
 */
export function stageOf(
  hyperParameters: Record<string, string> | undefined,
  containerArguments: string[] | undefined,
  environment: Record<string, string> | undefined,
): string {
  const fromHp = hyperParameters?.stage?.trim().replace(/^"|"$/g, '');
  if (fromHp) return fromHp;
  if (containerArguments?.length) {
    const at = containerArguments.indexOf('rewardds_jobs');
    const stage = at >= 0 ? containerArguments[at + 1] : containerArguments[containerArguments.length - 1];
    if (stage) return stage;
  }
  if (environment?.REWARDDS_STAGE) return environment.REWARDDS_STAGE;
  throw new SageMakerLocalError(
    'ValidationException',
    'the request names no rewardds_jobs stage (HyperParameters.stage or ContainerArguments)',
  );
}

/** Where SageMaker puts an uncompressed model: `<S3OutputPath>/<JobName>/output/model/`. */
export function modelArtifactsUri(request: CreateTrainingJobRequest): string {
  const base = (request.OutputDataConfig?.S3OutputPath ?? '').replace(/\/+$/, '');
  return `${base}/${request.TrainingJobName}/output/model/`;
}

/**
 * What the three Lambdas that drive SageMaker jobs (start-job, describe-job, record-failure)
 * share: the dependencies they get injected and the wiring of their exported `handler`.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { S3Client } from '@aws-sdk/client-s3';
import { powertools, wireOnFirstCall } from './lambda-wiring.js';
import { createS3Client } from './s3-objects.js';

/** A job Lambda's dependencies; `L`, the logger methods it calls (tests pass fakes of these only). */
export interface JobLambdaDeps<C, L extends keyof Logger = 'info'> {
  sagemaker: Pick<SageMakerClient, 'send'>;
  s3: S3Client;
  config: C;
  logger?: Pick<Logger, L>;
  metrics?: Pick<Metrics, 'addMetric' | 'addDimension' | 'publishStoredMetrics'>;
}

/**
 * The exported `handler` of a job Lambda: the clients and Powertools are made when the module
 * loads (once per container), the config is read from the environment on the first call.
 */
export function wireJobLambda<C, O>(
  name: string,
  createHandler: (deps: {
    sagemaker: SageMakerClient;
    s3: S3Client;
    config: C;
    logger: Logger;
    metrics: Metrics;
  }) => (event: unknown) => Promise<O>,
  configFromEnv: () => C,
): (event: unknown) => Promise<O> {
  const sagemaker = new SageMakerClient({});
  const s3 = createS3Client();
  const { logger, metrics } = powertools(name);
  return wireOnFirstCall(() => createHandler({ sagemaker, s3, config: configFromEnv(), logger, metrics }));
}

/**
 * "Run a Lambda": one `lambda:invoke` task whose result lands at one path of the state,
 * with retries on Lambda's transient errors and on SageMaker throttling.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

export interface InvokeProps {
  /** The state's name in the console. */
  readonly name: string;
  readonly fn: lambda.IFunction;
  readonly payload: sfn.TaskInput;
  /** Where the result goes; null drops it. */
  readonly resultPath: string | null;
  /**
   * The output keys to keep (from the output's zod schema in core/contract/events.ts):
   * the ResultSelector copies `$.Payload.<key>` for each, so the state holds the Lambda's
   * output itself rather than the invoke envelope.
   */
  readonly resultKeys?: string[];
}

/** Lambda's own transient failures, retried quickly. */
export const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
];

/** Raised by the job-control Lambdas when SageMaker throttles (functions/shared/sagemaker-errors.ts). */
export const THROTTLING_ERRORS = ['ThrottlingException'];

export const payloadSelector = (keys: string[]) =>
  Object.fromEntries(keys.map((key) => [`${key}.$`, `$.Payload.${key}`]));

const constructId = (name: string) => name.replace(/[^A-Za-z0-9 ()-]/g, '');

export function invokeLambda(scope: Construct, props: InvokeProps): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, constructId(props.name), {
    stateName: props.name,
    lambdaFunction: props.fn,
    payload: props.payload,
    // Our own retry list below replaces CDK's default one.
    retryOnServiceExceptions: false,
    resultSelector: props.resultKeys ? payloadSelector(props.resultKeys) : undefined,
    resultPath: props.resultPath === null ? sfn.JsonPath.DISCARD : props.resultPath,
  });
  task.addRetry({
    errors: LAMBDA_TRANSIENT_ERRORS,
    interval: Duration.seconds(2),
    maxAttempts: 6,
    backoffRate: 2,
    jitterStrategy: sfn.JitterType.FULL,
  });
  task.addRetry({
    errors: THROTTLING_ERRORS,
    interval: Duration.seconds(5),
    maxAttempts: 8,
    backoffRate: 2,
    maxDelay: Duration.minutes(2),
    jitterStrategy: sfn.JitterType.FULL,
  });
  return task;
}

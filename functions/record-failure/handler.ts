/**
 * Record failure Lambda, the catch-all's one task: stops the job in `$.job` if it still
 * runs (so a failed execution leaves no GPU billing), writes `runs/<run>/failure.json` to
 * the synthesis bucket, and returns `{error, cause}` for the Fail state. Both cross into
 * the synthesis zone, so a private-zone state's cause is one phrase of a fixed vocabulary
 * (core/contract/failure-reasons.ts); its raw reason stays where it arose.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { type SageMakerClient, StopProcessingJobCommand, StopTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import { readEnv } from '../../core/config/index.js';
import { flushingMetrics } from '../shared/lambda-wiring.js';
import { type JobLambdaDeps, wireJobLambda } from '../shared/job-lambda.js';
import {
  crossingCause,
  parseEvent,
  RecordFailureInputSchema,
  type JobRef,
  type RecordFailureOutput,
  synthesisKeys,
} from '../../core/contract/index.js';
import { putJson } from '../shared/s3-objects.js';
import { callSageMaker } from '../shared/sagemaker-errors.js';
import { describeJobStatus } from '../shared/job-status.js';

export interface RecordFailureConfig {
  synthesisBucket: string;
  synthesisKeyArn: string;
}

export interface RecordFailureDeps extends JobLambdaDeps<RecordFailureConfig, 'info' | 'warn'> {
  now?: () => Date;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): RecordFailureConfig {
  return readEnv(env, { synthesisBucket: z.string().min(3), synthesisKeyArn: z.string().min(1) });
}

/** Step Functions' Fail state allows 32,768 characters of cause. */
const MAX_CAUSE = 32_000;

/**
 * A Lambda error's Cause is the runtime's JSON (`errorType`, `errorMessage`, `trace`); the
 * message alone is what a person needs, and the trace is noise in failure.json.
 */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed?.errorMessage === 'string') return parsed.errorMessage.slice(0, MAX_CAUSE);
  } catch {
    // Not JSON: a States.* error's plain-text cause.
  }
  return cause.slice(0, MAX_CAUSE);
}

/** Stops the job if it is still running; returns whether a stop was requested. */
async function stopIfRunning(sagemaker: Pick<SageMakerClient, 'send'>, job: JobRef): Promise<boolean> {
  const { status } = await describeJobStatus(sagemaker, job);
  if (status !== 'InProgress') return false;
  if (job.kind === 'training') {
    await callSageMaker(() => sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: job.jobName })));
  } else {
    await callSageMaker(() => sagemaker.send(new StopProcessingJobCommand({ ProcessingJobName: job.jobName })));
  }
  return true;
}

export async function recordFailure(event: unknown, deps: RecordFailureDeps): Promise<RecordFailureOutput> {
  const input = parseEvent(RecordFailureInputSchema, event, 'record-failure');
  const error = input.error.Error;
  const cause = crossingCause(input.failedState, error, causeMessage(input.error.Cause));
  let stopped = false;
  if (input.job) {
    try {
      stopped = await stopIfRunning(deps.sagemaker, input.job);
    } catch (stopError) {
      // A job that cannot be stopped must not hide the run's own failure; the job still ends at MaxRuntime.
      deps.logger?.warn('could not stop the job', {
        jobName: input.job.jobName,
        error: (stopError as Error).name,
        message: (stopError as Error).message,
      });
    }
  }
  await putJson(
    deps.s3,
    deps.config.synthesisBucket,
    synthesisKeys.failure(input.runId),
    { state: input.failedState, error, cause, at: (deps.now ?? (() => new Date()))().toISOString() },
    deps.config.synthesisKeyArn,
  );
  deps.logger?.info('run failed', {
    runId: input.runId,
    state: input.failedState,
    error,
    jobName: input.job?.jobName,
    stopped,
  });
  deps.metrics?.addDimension('state', input.failedState);
  deps.metrics?.addMetric('RunsFailed', MetricUnit.Count, 1);
  // JobFailed messages already begin with the state's name; others get it in front.
  const shown = cause.startsWith(`${input.failedState}:`) ? cause : `${input.failedState}: ${cause || error}`;
  return { error, cause: shown.slice(0, MAX_CAUSE) };
}

export const createHandler = flushingMetrics<RecordFailureDeps, RecordFailureOutput>(recordFailure);

export const handler = wireJobLambda('record-failure', createHandler, configFromEnv);

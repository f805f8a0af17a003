/**
 * The errors the job-control Lambdas raise, named so the state machine can tell them
 * apart: `ThrottlingException` is retried with backoff, `JobFailed` goes to the catch-all.
 */

import { namedError } from '../../core/contract/index.js';

/** A job ended Failed or Stopped; the message is `"<state>: <jobName> <status>: <reason>"`. */
export class JobFailed extends namedError('JobFailed') {}

/** SageMaker's throttling, under one name the state machine's Retry lists. */
export class ThrottlingException extends namedError('ThrottlingException') {}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);

/**
 * Runs one SageMaker call; a throttled call is rethrown as ThrottlingException so Step
 * Functions retries the Lambda with backoff rather than failing the run.
 */
export async function callSageMaker<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const name = (error as { name?: string })?.name ?? '';
    if (THROTTLING.has(name)) throw new ThrottlingException(`SageMaker throttled the request (${name})`);
    throw error;
  }
}

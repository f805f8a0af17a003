/**
 * "Run a job and wait": start-job → describe-job → Choice → Wait → describe-job …, until
 * the job is Completed. describe-job says how long to wait next (core/sagemaker/poll-interval.ts)
 * and the Wait reads it through SecondsPath, so a long job costs few history events. A Failed or Stopped job makes describe-job throw JobFailed, which the
 * catch-all takes. Training jobs end with a Pass that keeps the new model at `$.models`.
 */
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { DescribeJobOutputSchema, StartJobOutputSchema, type Stage } from '../../core/contract/index.js';
import { STAGE_TRAITS } from '../../core/sagemaker/index.js';
import type { CatchAll } from './catch-all.js';
import { invokeLambda } from './lambda-step.js';
import type { Step } from './step.js';

export const jobStateNames = (name: string) => ({
  start: name,
  wait: `${name} · wait`,
  check: `${name} · check status`,
  done: `${name} · finished?`,
  keep: `${name} · keep model`,
});

export interface JobStepProps {
  /** The console name of the step. */
  readonly name: string;
  readonly stage: Stage;
  /** The round: a number, or `'$.round'` inside the refinement loop. Omitted for stages without rounds. */
  readonly round?: number | '$.round';
  readonly startJob: lambda.IFunction;
  readonly describeJob: lambda.IFunction;
  readonly catchAll: CatchAll;
}

export function runJob(scope: Construct, props: JobStepProps): Step {
  const names = jobStateNames(props.name);
  const training = STAGE_TRAITS[props.stage].kind === 'training';
  // The first job of a run comes before any model exists, so `$.models` is not there yet.
  const first = props.stage === 'train-generator';
  const round =
    props.round === undefined ? {} : props.round === '$.round' ? { 'round.$': '$.round' } : { round: props.round };

  const start = invokeLambda(scope, {
    name: names.start,
    fn: props.startJob,
    payload: sfn.TaskInput.fromObject({
      'runId.$': '$.runId',
      stage: props.stage,
      ...round,
      'run.$': '$.run',
      ...(first ? {} : { 'models.$': '$.models' }),
    }),
    resultPath: '$.job',
    resultKeys: Object.keys(StartJobOutputSchema.shape),
  });
  const wait = new sfn.Wait(scope, `${props.name} wait`, {
    stateName: names.wait,
    // Local mode overrides every Wait state.
    time: sfn.WaitTime.secondsPath('$.jobStatus.waitSeconds'),
  });
  const check = invokeLambda(scope, {
    name: names.check,
    fn: props.describeJob,
    payload: sfn.TaskInput.fromObject({
      'job.$': '$.job',
      state: props.name,
      ...(training ? (first ? { models: {} } : { 'models.$': '$.models' }) : {}),
    }),
    resultPath: '$.jobStatus',
    resultKeys: Object.keys(DescribeJobOutputSchema.shape),
  });
  const done = new sfn.Choice(scope, `${props.name} finished`, { stateName: names.done });
  props.catchAll.protect(start, props.name);
  props.catchAll.protect(check, props.name);
  // The first check comes at once: it finds an adopted Completed job without waiting.
  start.next(check);
  wait.next(check);
  check.next(done);
  // InProgress and Stopping poll again; Failed and Stopped never arrive here (describe-job throws).
  done.otherwise(wait);
  const completed = sfn.Condition.stringEquals('$.jobStatus.status', 'Completed');

  if (training) {
    const keep = new sfn.Pass(scope, `${props.name} keep model`, {
      stateName: names.keep,
      inputPath: '$.jobStatus.models',
      resultPath: '$.models',
    });
    done.when(completed, keep);
    return { start, continueTo: (next) => void keep.next(next) };
  }
  return { start, continueTo: (next) => void done.when(completed, next) };
}

/** "Run a Lambda" as a step: the task, protected by the catch-all. */
export function lambdaStep(scope: Construct, catchAll: CatchAll, props: Parameters<typeof invokeLambda>[1]): Step {
  const task = invokeLambda(scope, props);
  catchAll.protect(task, props.name);
  return { start: task, continueTo: (next) => void task.next(next) };
}

/**
 * The one catch-all: every task's Catch goes to a Pass that records which state failed
 * (`$.failedState`, its console name), then to the record-failure Lambda (stops the running
 * job, writes failure.json), then to a Fail state whose error and cause are the failure's.
 */
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { RecordFailureOutputSchema } from '../../core/contract/index.js';
import { invokeLambda } from './lambda-step.js';

export const RECORD_FAILURE_STATE = 'Record failure';
export const FAIL_STATE = 'Run failed';
export const failedPassName = (consoleName: string) => `${consoleName} · failed`;

export class CatchAll extends Construct {
  private readonly record: sfn.State;
  private readonly passes = new Map<string, sfn.Pass>();

  constructor(scope: Construct, id: string, recordFailure: lambda.IFunction) {
    super(scope, id);
    const fail = new sfn.Fail(this, 'Fail', {
      stateName: FAIL_STATE,
      errorPath: '$.failure.error',
      causePath: '$.failure.cause',
    });
    // The whole state goes in: `job` is absent before the first job, and a path to a missing key would fail here.
    const record = invokeLambda(this, {
      name: RECORD_FAILURE_STATE,
      fn: recordFailure,
      payload: sfn.TaskInput.fromJsonPathAt('$'),
      resultPath: '$.failure',
      resultKeys: Object.keys(RecordFailureOutputSchema.shape),
    });
    record.next(fail);
    this.record = record;
  }

  /** Adds the catch to `task`, naming `consoleName` as the failed state. */
  protect(task: sfn.TaskStateBase, consoleName: string): void {
    let pass = this.passes.get(consoleName);
    if (!pass) {
      pass = new sfn.Pass(this, `Failed ${consoleName}`, {
        stateName: failedPassName(consoleName),
        result: sfn.Result.fromString(consoleName),
        resultPath: '$.failedState',
      });
      pass.next(this.record);
      this.passes.set(consoleName, pass);
    }
    task.addCatch(pass, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
  }
}

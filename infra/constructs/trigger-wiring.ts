/**
 * Uploads start runs: S3 (EventBridge notifications on the private bucket) → a rule for
 * Object Created under incoming/ → the trigger Lambda, which starts (or finds) the
 * execution. Deliveries that keep failing land in an encrypted dead-letter queue.
 */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '../../core/config/index.js';
import { INCOMING_PREFIX } from '../../core/contract/index.js';
import { PipelineFunction } from './pipeline-function.js';
import { stableId } from './stable-id.js';
import type { ZoneStorage } from './zone-storage.js';

export interface TriggerWiringProps {
  readonly privateZone: ZoneStorage;
  readonly stateMachine: sfn.StateMachine;
  readonly logsKey: kms.IKey;
}

export class TriggerWiring extends Construct {
  public readonly rule: events.Rule;
  public readonly trigger: PipelineFunction;
  public readonly deadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: TriggerWiringProps) {
    super(scope, id);
    this.deadLetters = stableId(
      new sqs.Queue(this, 'DeadLetters', {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: props.logsKey,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      }),
      'TriggerDeadLetters',
    );
    this.trigger = new PipelineFunction(this, 'Trigger', {
      name: 'trigger',
      logicalName: 'Trigger',
      description: 'RewardDS: start a run for an upload under incoming/ (idempotent per object and ETag)',
      environment: {
        [ENV.privateBucket]: props.privateZone.bucket.bucketName,
        [ENV.stateMachineArn]: props.stateMachine.stateMachineArn,
      },
      logsKey: props.logsKey,
      deadLetterQueue: this.deadLetters,
    });
    // Lambda sends failed async events to the queue as the function's role, and SQS asks the
    // queue's key for a data key as that sender: without this, every dead letter is refused.
    props.logsKey.grant(this.trigger.role, 'kms:GenerateDataKey', 'kms:Decrypt');
    props.stateMachine.grantStartExecution(this.trigger.role);
    // A repeated event finds the execution by its name instead of starting a second one.
    this.trigger.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution'],
        resources: [
          Stack.of(this).formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${props.stateMachine.stateMachineName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );

    this.rule = stableId(
      new events.Rule(this, 'UploadRule', {
        description: 'RewardDS: an object created under incoming/ of the private bucket starts a run',
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created'],
          detail: {
            bucket: { name: [props.privateZone.bucket.bucketName] },
            object: { key: [{ prefix: INCOMING_PREFIX }] },
          },
        },
      }),
      'UploadRule',
    );
    this.rule.addTarget(
      new targets.LambdaFunction(this.trigger.function, {
        retryAttempts: 8,
        maxEventAge: Duration.hours(6),
        deadLetterQueue: this.deadLetters,
      }),
    );
  }
}

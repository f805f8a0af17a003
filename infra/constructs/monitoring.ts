/**
 * Someone hears when a run fails: alarms on failed, timed-out and aborted executions, and
 * on failed deliveries of upload events, all to one encrypted SNS topic.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { stableId } from './stable-id.js';

export interface MonitoringProps {
  readonly stateMachine: sfn.StateMachine;
  readonly triggerDeadLetters: sqs.IQueue;
  /** Encrypts the topic; CloudWatch must be allowed to use it. */
  readonly topicKey: kms.IKey;
  /** Subscribed to the topic when given. Default: no subscription. */
  readonly alarmEmail?: string;
}

export class Monitoring extends Construct {
  public readonly topic: sns.Topic;
  public readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = stableId(
      new sns.Topic(this, 'Topic', { displayName: 'RewardDS run alarms', masterKey: props.topicKey, enforceSSL: true }),
      'AlarmTopic',
    );
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    const period = Duration.minutes(5);
    const sm = props.stateMachine;
    const alarm = (logicalId: string, description: string, metric: cloudwatch.IMetric) => {
      const a = stableId(
        new cloudwatch.Alarm(this, logicalId, {
          alarmDescription: description,
          metric,
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
        logicalId,
      );
      a.addAlarmAction(new actions.SnsAction(this.topic));
      return a;
    };
    this.alarms = [
      alarm(
        'FailedRunsAlarm',
        'A RewardDS run failed: see runs/<run>/failure.json in the synthesis bucket',
        sm.metricFailed({ period, statistic: 'Sum' }),
      ),
      alarm(
        'TimedOutRunsAlarm',
        'A RewardDS run hit the state machine timeout',
        sm.metricTimedOut({ period, statistic: 'Sum' }),
      ),
      alarm(
        'AbortedRunsAlarm',
        'A RewardDS run was stopped by hand; its running job may need a look',
        sm.metricAborted({ period, statistic: 'Sum' }),
      ),
      alarm(
        'UndeliveredUploadsAlarm',
        'An upload event could not start a run: see the trigger dead-letter queue',
        props.triggerDeadLetters.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      ),
    ];
    // The topic policy (enforceSSL) names who may publish; without this statement CloudWatch's
    // alarm actions are refused and no e-mail ever arrives. Only our own alarms, in our account.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisStacksAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnLike: { 'aws:SourceArn': this.alarms.map((a) => a.alarmArn) },
        },
      }),
    );
  }
}

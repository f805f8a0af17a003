/**
 * The RewardDS stack: two zones (storage), the job runtime, the pipeline, the upload
 * trigger and the alarms. One construct per concern; this file only wires them.
 */
import { ArnFormat, CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { JobRuntime } from './constructs/job-runtime.js';
import { Monitoring } from './constructs/monitoring.js';
import { Pipeline } from './constructs/pipeline.js';
import { stableId } from './constructs/stable-id.js';
import { TriggerWiring } from './constructs/trigger-wiring.js';
import { AccessLogsBucket, ZoneStorage } from './constructs/zone-storage.js';
import { acknowledgeNagFindings } from './nag-acknowledgements.js';
import { withoutRedundantDependsOn } from './redundant-depends-on.js';
import { breakGlassRoleName, resolveSettings, type DeploymentSettings } from './settings.js';

export interface RewardDsStackProps extends StackProps {
  /** Overrides the context (`cdk -c key=value`). Default: context, then built-in defaults. */
  readonly settings?: Partial<DeploymentSettings>;
  /** Folder of the job image's Dockerfile. Default: jobs/. */
  readonly jobImageDirectory?: string;
}

export class RewardDsStack extends Stack {
  public readonly settings: DeploymentSettings;
  public readonly privateZone: ZoneStorage;
  public readonly synthesisZone: ZoneStorage;
  public readonly jobs: JobRuntime;
  public readonly pipeline: Pipeline;
  public readonly trigger: TriggerWiring;
  public readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: RewardDsStackProps = {}) {
    super(scope, id, props);
    // Log delivery by bucket policy, not the legacy ACL, so every bucket can enforce bucket-owner ownership.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    this.settings = resolveSettings(this.node, props.settings);
    const s = this.settings;

    // Operations data (logs, alarm topic, dead letters): no private content, its own key.
    const opsKey = stableId(
      new kms.Key(this, 'OperationsKey', {
        description: 'RewardDS operations: log groups, alarm topic, trigger dead letters',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      }),
      'OperationsKey',
    );
    opsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:DescribeKey',
        ],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': this.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    opsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [
          new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
          new iam.ServicePrincipal('events.amazonaws.com'),
        ],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );

    const accessLogs = new AccessLogsBucket(this, 'AccessLogs', { retentionDays: s.accessLogDays });
    const zoneProps = {
      accessLogs: accessLogs.bucket,
      oldVersionDays: s.oldVersionDays,
      quarantineDays: s.quarantineDays,
    };
    this.privateZone = new ZoneStorage(this, 'PrivateZone', { zone: 'private', eventBridge: true, ...zoneProps });
    this.synthesisZone = new ZoneStorage(this, 'SynthesisZone', { zone: 'synthesis', ...zoneProps });
    this.jobs = new JobRuntime(this, 'Jobs', {
      privateZone: this.privateZone,
      synthesisZone: this.synthesisZone,
      modelsPrefix: s.modelsPrefix,
      modelsBucketAccount: s.modelsBucketAccount,
      imageDirectory: props.jobImageDirectory,
    });
    this.pipeline = new Pipeline(this, 'Pipeline', {
      privateZone: this.privateZone,
      synthesisZone: this.synthesisZone,
      jobs: this.jobs,
      settings: s,
      logsKey: opsKey,
    });
    this.trigger = new TriggerWiring(this, 'Trigger', {
      privateZone: this.privateZone,
      stateMachine: this.pipeline.stateMachine,
      logsKey: opsKey,
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      stateMachine: this.pipeline.stateMachine,
      triggerDeadLetters: this.trigger.deadLetters,
      topicKey: opsKey,
      alarmEmail: s.alarmEmail,
    });

    // Explicit denies on the private bucket and key, for everyone but the private-zone roles
    // (those with a grant there) and the break-glass role (docs/operations.md, "Break-glass").
    const f = this.pipeline.functions;
    this.privateZone.denyAllExcept(
      [this.jobs.privateRole, f.prepareRun.role, f.startJob.role, f.release.role],
      this.formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: breakGlassRoleName(s, this.stackName),
      }),
      // Writes private jobs' timing records (runs/*/jobs/*), reads nothing there.
      [f.describeJob.role],
    );

    acknowledgeNagFindings(this);

    new CfnOutput(this, 'PrivateBucketName', {
      value: this.privateZone.bucket.bucketName,
      description: 'Upload here under incoming/ to start a run',
    });
    new CfnOutput(this, 'SynthesisBucketName', {
      value: this.synthesisZone.bucket.bucketName,
      description: 'Runs write their outputs here under runs/<run>/',
    });
    new CfnOutput(this, 'StateMachineArn', { value: this.pipeline.stateMachine.stateMachineArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
  }

  /** The rendered template, without the DependsOn entries its references already imply (cfn-lint W3005). */
  // biome-ignore lint/suspicious/noExplicitAny: the signature CDK's Stack declares for this override
  protected override _toCloudFormation(): any {
    return withoutRedundantDependsOn(super._toCloudFormation());
  }
}

/**
 * The cdk-nag findings (AwsSolutions and HIPAA Security packs) this design accepts, each
 * acknowledged where it arises with the reason it is safe. IAM5 acknowledgements name the
 * exact wildcard resource, so a new wildcard fails the nag test until someone explains it.
 */
import { Token, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { RewardDsStack } from './rewardds-stack.js';

const ack = (scope: IConstruct, reason: string, ...ids: string[]) =>
  Validations.of(scope).acknowledge(...ids.map((id) => ({ id, reason })));
const iam5 = (resource: string) => `AwsSolutions-IAM5[Resource::${resource}]`;

const XRAY =
  'Resource::* is X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords), which has no resource-level permissions.';
const RUN_OBJECTS =
  'Run ids are chosen at upload time, so objects are granted by the fixed layout of core/contract/layout.ts under runs/*/…; the prefix after the run id names the one kind of object this role needs.';
const JOB_NAMES =
  'SageMaker job names are unique per attempt and start with a prefix derived from this stack’s name (jobNamePrefix in core/sagemaker/sagemaker-request.ts), so the grant covers this stack’s jobs only.';

export function acknowledgeNagFindings(stack: RewardDsStack): void {
  const { pipeline, jobs, trigger, privateZone, synthesisZone } = stack;
  // cdk-nag prints a concrete region/account when the stack has one, else the pseudo parameter.
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const f = pipeline.functions;

  // Systemic design choices, once for the stack.
  ack(
    stack,
    'Every policy is CDK’s per-role AWS::IAM::Policy built from scoped grants and attached to that one role; a shared managed policy would widen, not narrow, who holds each permission.',
    'HIPAA.Security-IAMNoInlinePolicy',
  );
  ack(
    stack,
    'The pipeline Lambdas are invoked synchronously by Step Functions, which retries and catches their errors; an async dead-letter queue would never receive anything. The trigger, invoked asynchronously by EventBridge, has one: TriggerDeadLetters (KMS-encrypted with the operations key, which the trigger role and EventBridge may use to send to it), alarmed by UndeliveredUploadsAlarm.',
    'HIPAA.Security-LambdaDLQ',
  );
  ack(
    stack,
    'Concurrency is bounded by the state machine (one invocation per state per run); reserving it would take capacity from the account for no protection.',
    'HIPAA.Security-LambdaConcurrency',
  );
  ack(
    stack,
    'The Lambdas call only S3, SageMaker and Step Functions APIs over TLS with IAM auth and no inbound path; a VPC with interface endpoints is a deployment option, not a property of this stack.',
    'HIPAA.Security-LambdaInsideVPC',
  );
  for (const zone of [privateZone, synthesisZone]) {
    ack(
      zone.bucket,
      'Cross-Region replication would copy private records (or their DP outputs) into a Region the data owner has not approved; versioning and a retained bucket protect against loss.',
      'HIPAA.Security-S3BucketReplicationEnabled',
    );
  }
  const logs = stack.node.findChild('AccessLogs');
  ack(
    logs,
    'S3 server access log delivery writes only to buckets encrypted with SSE-S3; the logs hold request metadata, never objects.',
    'HIPAA.Security-S3DefaultEncryptionKMS',
  );
  ack(
    logs,
    'Access logs are request metadata that expire by lifecycle; replicating them adds no protection to the data.',
    'HIPAA.Security-S3BucketReplicationEnabled',
  );

  // The CDK-provided handler that configures EventBridge notifications on the private bucket at deploy time.
  const notifications = stack.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
  if (notifications) {
    ack(
      notifications,
      'CDK’s own deploy-time handler for bucket notifications; AWSLambdaBasicExecutionRole only lets it write its logs.',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    );
  }

  // Job execution roles.
  const sagemakerLogs = `arn:<AWS::Partition>:logs:${region}:${account}:log-group:/aws/sagemaker/*`;
  const models = `arn:<AWS::Partition>:s3:::${modelsResource(stack)}`;
  for (const role of [jobs.privateRole, jobs.synthesisRole]) {
    ack(
      role,
      'ecr:GetAuthorizationToken has no resource-level permissions; cloudwatch:PutMetricData is limited by condition to the /aws/sagemaker/* namespaces.',
      iam5('*'),
    );
    ack(
      role,
      'SageMaker jobs create their own log streams under /aws/sagemaker/TrainingJobs and /aws/sagemaker/ProcessingJobs.',
      iam5(sagemakerLogs),
    );
    ack(role, 'Read-only access to the public base models under the configured models prefix.', iam5(models));
  }
  ack(
    jobs.privateRole,
    `${RUN_OBJECTS} Private-zone jobs read and write their own zone's runs.`,
    iam5('<PrivateBucket.Arn>/runs/*'),
  );
  ack(
    jobs.privateRole,
    'Evaluation (private zone) reads every round’s target adapter: read-only, synthesis → private, the direction that leaks nothing.',
    iam5('<SynthesisBucket.Arn>/runs/*/target/*'),
  );
  ack(
    jobs.privateRole,
    'The canary audit (private zone) scans the synthetic queries and candidates for the canary secrets: read-only, synthesis → private.',
    iam5('<SynthesisBucket.Arn>/runs/*/queries/*'),
    iam5('<SynthesisBucket.Arn>/runs/*/candidates/*'),
  );
  ack(
    jobs.synthesisRole,
    `${RUN_OBJECTS} Synthesis-zone jobs read and write their own zone's runs, including the released DP models.`,
    iam5('<SynthesisBucket.Arn>/runs/*'),
  );

  // Lambda roles: X-Ray, plus the run objects each one touches.
  for (const fn of Object.values(f)) ack(fn.role, XRAY, iam5('*'));
  ack(trigger.trigger.role, XRAY, iam5('*'));
  ack(
    trigger.trigger.role,
    'A repeated upload event looks up the execution it already started, by name, among this state machine’s executions.',
    iam5(`arn:<AWS::Partition>:states:${region}:${account}:execution:<StateMachine.Name>:*`),
  );

  const objects = (fn: IConstruct, ...resources: string[]) => ack(fn, RUN_OBJECTS, ...resources.map(iam5));
  objects(
    f.prepareRun.role,
    '<PrivateBucket.Arn>/incoming/*',
    '<PrivateBucket.Arn>/quarantine/*',
    '<PrivateBucket.Arn>/runs/*/input/*',
    '<PrivateBucket.Arn>/runs/*/run.json',
    '<SynthesisBucket.Arn>/runs/*/input/seeds.jsonl',
    '<SynthesisBucket.Arn>/runs/*/run.json',
  );
  objects(f.startJob.role, '<PrivateBucket.Arn>/runs/*/config/*', '<SynthesisBucket.Arn>/runs/*/config/*');
  objects(f.describeJob.role, '<SynthesisBucket.Arn>/runs/*/jobs/*', '<PrivateBucket.Arn>/runs/*/jobs/*');
  objects(f.recordFailure.role, '<SynthesisBucket.Arn>/runs/*/failure.json');
  objects(
    f.release.role,
    '<PrivateBucket.Arn>/runs/*/generator/*',
    '<PrivateBucket.Arn>/runs/*/reward/*',
    '<PrivateBucket.Arn>/runs/*/eval/*',
    '<PrivateBucket.Arn>/runs/*/audit/*',
    '<PrivateBucket.Arn>/runs/*/run.json',
    '<SynthesisBucket.Arn>/runs/*/release/*',
    '<SynthesisBucket.Arn>/runs/*/eval/*',
    '<SynthesisBucket.Arn>/runs/*/audit/*',
  );
  for (const selection of [f.filter, f.gate])
    objects(
      selection.role,
      '<SynthesisBucket.Arn>/runs/*',
      '<SynthesisBucket.Arn>/runs/*/pool/*',
      '<SynthesisBucket.Arn>/runs/*/working/*',
    );
  objects(f.report.role, '<SynthesisBucket.Arn>/runs/*', '<SynthesisBucket.Arn>/runs/*/report/*');
  const jobArns = ['training-job', 'processing-job'].map((k) =>
    iam5(`arn:<AWS::Partition>:sagemaker:${region}:${account}:${k}/${pipeline.jobNamePrefix}*`),
  );
  for (const fn of [f.startJob, f.describeJob, f.recordFailure]) ack(fn.role, JOB_NAMES, ...jobArns);

  // The state machine's role: invoking each Lambda (CDK grants the function and its versions), logging and tracing.
  const smRole = pipeline.stateMachine.role;
  ack(
    smRole,
    'Step Functions log delivery (logs:*LogDelivery*, DescribeResourcePolicies…) and X-Ray have no resource-level permissions.',
    iam5('*'),
  );
  ack(
    smRole,
    'lambda:InvokeFunction on each pipeline function and its versions/aliases (<Arn>:*), as CDK grants for a LambdaInvoke task.',
    ...['PrepareRun', 'StartJob', 'DescribeJob', 'Release', 'Filter', 'Gate', 'Report', 'RecordFailure'].map((n) =>
      iam5(`<${n}Function.Arn>:*`),
    ),
  );
}

/** The models prefix as it appears in IAM resources: `bucket/prefix*`. */
function modelsResource(stack: RewardDsStack): string {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(stack.settings.modelsPrefix)!;
  return `${match[1]}/${match[2]}*`;
}

/**
 * The pipeline: the Lambdas, each with a role scoped to the objects it touches, and the
 * Standard state machine that runs them (infra/pipeline/definition.ts). Private-zone
 * Lambdas (prepare-run, release) are the only ones with any grant on the private bucket or
 * key; release is the only one that reads private data and writes the synthesis zone.
 */
import { Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '../../core/config/index.js';
import { jobNamePrefix } from '../../core/sagemaker/index.js';
import { buildDefinition, type PipelineFunctions } from '../pipeline/definition.js';
import type { DeploymentSettings } from '../settings.js';
import {
  decryptWith,
  deleteObjects,
  encryptOnlyWith,
  encryptWith,
  grantForJobVolumes,
  readObjects,
  writeObjects,
} from './grants.js';
import type { JobRuntime } from './job-runtime.js';
import { PipelineFunction } from './pipeline-function.js';
import { stableId } from './stable-id.js';
import type { ZoneStorage } from './zone-storage.js';

export interface PipelineProps {
  readonly privateZone: ZoneStorage;
  readonly synthesisZone: ZoneStorage;
  readonly jobs: JobRuntime;
  readonly settings: DeploymentSettings;
  /** Encrypts the Lambdas' and the state machine's log groups. */
  readonly logsKey: kms.IKey;
}

export class Pipeline extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly functions: Record<keyof PipelineFunctions, PipelineFunction>;
  /** Every SageMaker job of this stack is named `<jobNamePrefix>…`. */
  public readonly jobNamePrefix: string;

  constructor(scope: Construct, id: string, props: PipelineProps) {
    super(scope, id);
    const { privateZone: priv, synthesisZone: synth, jobs, settings } = props;
    const stack = Stack.of(this);
    // Job names (and so the IAM scope of the job Lambdas) are per stack: two stacks in one
    // account never start, stop or read each other's jobs.
    this.jobNamePrefix = jobNamePrefix(stack.stackName);
    const zoneEnv = {
      [ENV.privateBucket]: priv.bucket.bucketName,
      [ENV.synthesisBucket]: synth.bucket.bucketName,
      [ENV.privateKeyArn]: priv.key.keyArn,
      [ENV.synthesisKeyArn]: synth.key.keyArn,
    };
    // Synthesis-zone Lambdas learn no private name at all: they have no use for it.
    const synthesisEnv = { [ENV.synthesisBucket]: synth.bucket.bucketName, [ENV.synthesisKeyArn]: synth.key.keyArn };
    const fn = (
      name: string,
      logicalName: string,
      description: string,
      environment: Record<string, string>,
      timeout = Duration.minutes(1),
      memorySize = 512,
    ) =>
      new PipelineFunction(this, logicalName, {
        name,
        logicalName,
        description,
        environment,
        logsKey: props.logsKey,
        timeout,
        memorySize,
      });

    const defaults = {
      privacy: { epsilon: settings.defaultEpsilon },
      generator: { baseModel: settings.generatorBaseModel },
      reward: { baseModel: settings.generatorBaseModel },
      target: { baseModel: settings.targetBaseModel },
      ...(Object.keys(settings.instanceTypes).length ? { compute: { instanceTypes: settings.instanceTypes } } : {}),
    };
    const f = {
      prepareRun: fn(
        'prepare-run',
        'PrepareRun',
        'RewardDS: validate and normalize an upload, plan the privacy budget',
        { ...zoneEnv, [ENV.defaultRunConfig]: JSON.stringify(defaults) },
        Duration.minutes(15),
        1024,
      ),
      startJob: fn('start-job', 'StartJob', 'RewardDS: start one SageMaker job of a stage', {
        ...zoneEnv,
        [ENV.jobImageUri]: jobs.image.imageUri,
        [ENV.privateJobRoleArn]: jobs.privateRole.roleArn,
        [ENV.synthesisJobRoleArn]: jobs.synthesisRole.roleArn,
        [ENV.proxyBaseModelUri]: settings.generatorBaseModel,
        [ENV.targetBaseModelUri]: settings.targetBaseModel,
        [ENV.modelsPrefixUri]: settings.modelsPrefix,
        [ENV.jobNamePrefix]: this.jobNamePrefix,
      }),
      // Knows the private bucket to write private jobs' timing there (write-only, below).
      describeJob: fn('describe-job', 'DescribeJob', 'RewardDS: poll a SageMaker job, record its timing', zoneEnv),
      release: fn(
        'release',
        'Release',
        'RewardDS: check the privacy budget and release the DP models (the only private-to-synthesis bridge)',
        zoneEnv,
        Duration.minutes(15),
        1024,
      ),
      filter: fn(
        'filter',
        'Filter',
        'RewardDS: reward-guided filtering of scored candidates',
        synthesisEnv,
        Duration.minutes(15),
        2048,
      ),
      gate: fn('gate', 'Gate', 'RewardDS: refinement gate of a round', synthesisEnv, Duration.minutes(15), 2048),
      // Counts come from the jobs' metrics; the scores files are still streamed once for the
      // reward distributions: at M = 100,000 × 6 candidates, ~1 GB a round, 9 rounds ≈ 9 GB,
      // about 3 min at 50 MB/s. The Lambda maximum (15 min) leaves 5× headroom, and 3 GB of
      // memory brings the CPU that JSON parsing needs (170 MB/s measured on a laptop core).
      report: fn('report', 'Report', 'RewardDS: write the run report', synthesisEnv, Duration.minutes(15), 3008),
      recordFailure: fn(
        'record-failure',
        'RecordFailure',
        'RewardDS: stop the running job and record why a run failed',
        synthesisEnv,
      ),
    };
    this.functions = f;

    // prepare-run: reads the upload, writes the normalized run and quarantine; publishes seeds (declared public) and run.json (counts, config, plan).
    readObjects(f.prepareRun.role, priv.bucket, ['incoming/*']);
    writeObjects(f.prepareRun.role, priv.bucket, ['runs/*/input/*', 'runs/*/run.json', 'quarantine/*']);
    encryptWith(f.prepareRun.role, priv.key);
    writeObjects(f.prepareRun.role, synth.bucket, ['runs/*/input/seeds.jsonl', 'runs/*/run.json']);
    // A refused upload takes back what prepare-run already wrote for it (never the upload itself).
    deleteObjects(f.prepareRun.role, priv.bucket, ['runs/*/input/*']);
    deleteObjects(f.prepareRun.role, synth.bucket, ['runs/*/input/seeds.jsonl']);
    encryptWith(f.prepareRun.role, synth.key);

    // start-job: writes each job's config.json, starts jobs, passes the job roles to SageMaker.
    writeObjects(f.startJob.role, priv.bucket, ['runs/*/config/*']);
    writeObjects(f.startJob.role, synth.bucket, ['runs/*/config/*']);
    for (const zone of [priv, synth]) {
      encryptWith(f.startJob.role, zone.key);
      grantForJobVolumes(f.startJob.role, zone.key);
    }
    const jobArns = (kind: 'training-job' | 'processing-job') =>
      stack.formatArn({ service: 'sagemaker', resource: kind, resourceName: `${this.jobNamePrefix}*` });
    f.startJob.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:CreateTrainingJob', 'sagemaker:CreateProcessingJob'],
        resources: [jobArns('training-job'), jobArns('processing-job')],
        // Defence in depth: a job started without network isolation is refused by IAM itself.
        conditions: { Bool: { 'sagemaker:NetworkIsolation': 'true' } },
      }),
    );
    // Describe-before-create: a retried start-job adopts the job its failed attempt created.
    f.startJob.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:DescribeTrainingJob', 'sagemaker:DescribeProcessingJob'],
        resources: [jobArns('training-job'), jobArns('processing-job')],
      }),
    );
    f.startJob.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:AddTags'],
        resources: [jobArns('training-job'), jobArns('processing-job')],
      }),
    );
    f.startJob.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [jobs.privateRole.roleArn, jobs.synthesisRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    );
    f.describeJob.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:DescribeTrainingJob', 'sagemaker:DescribeProcessingJob'],
        resources: [jobArns('training-job'), jobArns('processing-job')],
      }),
    );
    writeObjects(f.describeJob.role, synth.bucket, ['runs/*/jobs/*']);
    encryptWith(f.describeJob.role, synth.key);
    // A private-zone job's timing is a non-DP function of the records: it goes to the private
    // bucket, which describe-job may write (that prefix only) but never read, list or decrypt.
    writeObjects(f.describeJob.role, priv.bucket, ['runs/*/jobs/*']);
    encryptOnlyWith(f.describeJob.role, priv.key);

    f.recordFailure.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'sagemaker:DescribeTrainingJob',
          'sagemaker:DescribeProcessingJob',
          'sagemaker:StopTrainingJob',
          'sagemaker:StopProcessingJob',
        ],
        resources: [jobArns('training-job'), jobArns('processing-job')],
      }),
    );
    writeObjects(f.recordFailure.role, synth.bucket, ['runs/*/failure.json']);
    encryptWith(f.recordFailure.role, synth.key);

    // release: the bridge. Reads the DP models, their metrics and the evaluation's and the canary
    // audit's aggregate metrics; writes release/, eval/ and audit/. Never input/ (the canaries' secrets).
    readObjects(f.release.role, priv.bucket, [
      'runs/*/generator/*',
      'runs/*/reward/*',
      'runs/*/eval/*',
      'runs/*/audit/*',
      'runs/*/run.json',
    ]);
    decryptWith(f.release.role, priv.key);
    writeObjects(f.release.role, synth.bucket, ['runs/*/release/*', 'runs/*/eval/*', 'runs/*/audit/*']);
    encryptWith(f.release.role, synth.key);

    for (const selection of [f.filter, f.gate]) {
      readObjects(selection.role, synth.bucket, ['runs/*']);
      writeObjects(selection.role, synth.bucket, ['runs/*/pool/*', 'runs/*/working/*']);
      encryptWith(selection.role, synth.key);
    }
    readObjects(f.report.role, synth.bucket, ['runs/*']);
    writeObjects(f.report.role, synth.bucket, ['runs/*/report/*']);
    encryptWith(f.report.role, synth.key);

    // The group is retained on destroy (the runs' audit trail), so a fixed name would make
    // the next deploy of the same stack fail on "already exists". The first block of the
    // stack id's UUID is new with each creation of the stack and stable across updates.
    const stackCreation = Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', stack.stackId))));
    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      // Under /aws/vendedlogs/ Step Functions needs no growing CloudWatch Logs resource policy.
      logGroupName: `/aws/vendedlogs/states/${stack.stackName}-pipeline-${stackCreation}`,
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const definition = buildDefinition(this, {
      prepareRun: f.prepareRun.function,
      startJob: f.startJob.function,
      describeJob: f.describeJob.function,
      release: f.release.function,
      filter: f.filter.function,
      gate: f.gate.function,
      report: f.report.function,
      recordFailure: f.recordFailure.function,
    });
    this.stateMachine = stableId(
      new sfn.StateMachine(this, 'StateMachine', {
        stateMachineType: sfn.StateMachineType.STANDARD,
        comment:
          'RewardDS: DP proxies in the private zone, reward-guided synthesis and target fine-tuning in the synthesis zone',
        definitionBody: sfn.DefinitionBody.fromChainable(definition),
        logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
        tracingEnabled: true,
        timeout: Duration.days(14),
      }),
      'StateMachine',
    );
  }
}

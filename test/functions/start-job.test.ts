import {
  CreateProcessingJobCommand,
  CreateTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  DescribeProcessingJobCommand,
  DescribeTrainingJobCommand,
  SageMakerClient,
  SageMakerServiceException,
} from '@aws-sdk/client-sagemaker';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { configFromEnv, createHandler, type StartJobConfig } from '../../functions/start-job/handler.js';
import {
  ENV,
  MODELS,
  PRIVATE_BUCKET,
  PRIVATE_KEY,
  RUN_ID,
  runState,
  SYNTHESIS_BUCKET,
} from '../helpers/job-fixtures.js';

const sagemakerMock = mockClient(SageMakerClient);
const s3Mock = mockClient(S3Client);
const CONFIG: StartJobConfig = { ...ENV, modelsPrefix: 's3://rds-models/', jobNamePrefix: 'rewardds-5c1e0a-' };

function handler() {
  return createHandler({
    sagemaker: new SageMakerClient({ region: 'us-east-1' }),
    s3: new S3Client({ region: 'us-east-1' }),
    config: CONFIG,
  });
}

/** What SageMaker answers to a Describe of a job that does not exist. */
const notFound = () =>
  new SageMakerServiceException({
    name: 'ValidationException',
    $fault: 'client',
    $metadata: {},
    message: 'Requested resource not found.',
  });

beforeEach(() => {
  sagemakerMock.reset();
  s3Mock.reset();
  sagemakerMock
    .on(CreateTrainingJobCommand)
    .resolves({ TrainingJobArn: 'arn:aws:sagemaker:us-east-1:111122223333:training-job/x' });
  sagemakerMock
    .on(CreateProcessingJobCommand)
    .resolves({ ProcessingJobArn: 'arn:aws:sagemaker:us-east-1:111122223333:processing-job/x' });
  s3Mock.on(PutObjectCommand).resolves({});
  sagemakerMock.on(DescribeTrainingJobCommand).rejects(notFound());
  sagemakerMock.on(DescribeProcessingJobCommand).rejects(notFound());
});

describe('start-job', () => {
  it('writes the stage config, then starts the training job that reads it', async () => {
    const out = await handler()({ runId: RUN_ID, stage: 'train-reward', run: runState(), models: MODELS });
    expect(out).toEqual({
      jobName: expect.stringMatching(/^rewardds-5c1e0a-tr-[0-9a-f]{8}-/),
      kind: 'training',
      stage: 'train-reward',
      zone: 'private',
      runId: RUN_ID,
      round: null,
    });

    const put = s3Mock.commandCalls(PutObjectCommand);
    expect(put).toHaveLength(1);
    expect(put[0]!.args[0].input).toMatchObject({
      Bucket: PRIVATE_BUCKET,
      Key: `runs/${RUN_ID}/config/${out.jobName}/config.json`,
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: PRIVATE_KEY,
      BucketKeyEnabled: true,
    });
    expect(JSON.parse(put[0]!.args[0].input.Body as string)).toEqual({
      seed: 0,
      epochs: 3,
      batchSize: 64,
      learningRate: 5e-4,
      lora: { r: 16, alpha: 32, dropout: 0.05 },
      maxLength: 1024,
      noiseMultiplier: 1.07,
      clipNorm: 1,
      delta: 2.5e-6,
    });

    const create = sagemakerMock.commandCalls(CreateTrainingJobCommand);
    expect(create).toHaveLength(1);
    const request = create[0]!.args[0].input;
    expect(request.TrainingJobName).toBe(out.jobName);
    expect(request.RoleArn).toBe(ENV.roleArns.private);
    expect(request.EnableNetworkIsolation).toBe(true);
    expect(request.InputDataConfig?.map((c) => [c.ChannelName, c.DataSource?.S3DataSource?.S3Uri])).toEqual([
      ['pairs', `s3://${PRIVATE_BUCKET}/runs/${RUN_ID}/pairs/pairs.jsonl`],
      ['base', 's3://rds-models/qwen-0.5b/'],
      ['config', `s3://${PRIVATE_BUCKET}/runs/${RUN_ID}/config/${out.jobName}/`],
    ]);
    expect(request.OutputDataConfig).toEqual({
      S3OutputPath: `s3://${PRIVATE_BUCKET}/runs/${RUN_ID}/reward/`,
      KmsKeyId: PRIVATE_KEY,
      CompressionType: 'NONE',
    });
    expect(sagemakerMock.commandCalls(CreateProcessingJobCommand)).toHaveLength(0);
  });

  it('names the job after run, stage, round and attempt, and describes the name before creating it', async () => {
    const event = { runId: RUN_ID, stage: 'refine', round: 1, run: runState(), models: MODELS };
    const out = await handler()(event);
    expect(out.jobName).toMatch(/^rewardds-5c1e0a-rf1-[0-9a-f]{8}-a0$/);
    expect(out).toMatchObject({ kind: 'processing', zone: 'synthesis', round: 1 });
    const order = sagemakerMock.calls().map((c) => c.args[0].constructor.name);
    expect(order).toEqual(['DescribeProcessingJobCommand', 'CreateProcessingJobCommand']);
    expect(sagemakerMock.commandCalls(DescribeProcessingJobCommand)[0]!.args[0].input).toEqual({
      ProcessingJobName: out.jobName,
    });
    expect(s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Bucket)).toEqual([SYNTHESIS_BUCKET]);
  });

  it('adopts the job a failed attempt of start-job already created, instead of starting a second one', async () => {
    const event = { runId: RUN_ID, stage: 'train-reward', run: runState(), models: MODELS };
    const first = await handler()(event);
    const created = sagemakerMock.commandCalls(CreateTrainingJobCommand)[0]!.args[0].input;
    // The create call succeeded but the Lambda failed after it: Step Functions retries with the same input.
    sagemakerMock.on(DescribeTrainingJobCommand).resolves({ ...created, TrainingJobStatus: 'InProgress' });
    const retried = await handler()(event);
    expect(retried).toEqual(first);
    expect(sagemakerMock.commandCalls(CreateTrainingJobCommand)).toHaveLength(1);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('adopts a Completed job of the same request (a resumed run), and moves past attempts that ended Failed or Stopped', async () => {
    const event = { runId: RUN_ID, stage: 'train-generator', run: runState() };
    await handler()(event);
    const created = sagemakerMock.commandCalls(CreateTrainingJobCommand)[0]!.args[0].input;
    const a0 = created.TrainingJobName!;
    const a1 = a0.replace(/-a0$/, '-a1');
    const a2 = a0.replace(/-a0$/, '-a2');
    sagemakerMock.reset();
    s3Mock.on(PutObjectCommand).resolves({});
    sagemakerMock.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn:x' });
    const described = (name: string, status: string): CreateTrainingJobCommandInput & { TrainingJobStatus: any } => ({
      ...created,
      TrainingJobName: name,
      TrainingJobStatus: status,
    });
    sagemakerMock
      .on(DescribeTrainingJobCommand, { TrainingJobName: a0 })
      .resolves(described(a0, 'Failed'))
      .on(DescribeTrainingJobCommand, { TrainingJobName: a1 })
      .resolves(described(a1, 'Stopped'))
      .on(DescribeTrainingJobCommand, { TrainingJobName: a2 })
      .rejects(notFound());
    expect((await handler()(event)).jobName).toBe(a2);
    expect(sagemakerMock.commandCalls(CreateTrainingJobCommand).map((c) => c.args[0].input.TrainingJobName)).toEqual([
      a2,
    ]);

    const createdA2 = sagemakerMock.commandCalls(CreateTrainingJobCommand)[0]!.args[0].input;
    sagemakerMock
      .on(DescribeTrainingJobCommand, { TrainingJobName: a2 })
      .resolves({ ...createdA2, TrainingJobStatus: 'Completed' });
    expect((await handler()(event)).jobName).toBe(a2);
    expect(sagemakerMock.commandCalls(CreateTrainingJobCommand)).toHaveLength(1);
  });

  it('refuses a job of the same name that was started with a different request', async () => {
    const event = { runId: RUN_ID, stage: 'train-reward', run: runState(), models: MODELS };
    await handler()(event);
    const created = sagemakerMock.commandCalls(CreateTrainingJobCommand)[0]!.args[0].input;
    sagemakerMock.on(DescribeTrainingJobCommand).resolves({
      ...created,
      TrainingJobStatus: 'InProgress',
      Environment: { REWARDDS_CONFIG_SHA256: 'another-config' },
      ResourceConfig: { ...created.ResourceConfig!, InstanceType: 'ml.g5.48xlarge' },
    });
    await expect(handler()(event)).rejects.toThrow(
      /train-reward: job rewardds-5c1e0a-tr-[0-9a-f]{8}-a0 already exists \(InProgress\) with a different instanceType, configHash/,
    );
    expect(sagemakerMock.commandCalls(CreateTrainingJobCommand)).toHaveLength(1);
  });

  it('surfaces SageMaker throttling as ThrottlingException, for the state machine to retry', async () => {
    sagemakerMock.on(CreateProcessingJobCommand).rejects(
      new SageMakerServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: {},
        message: 'Rate exceeded',
      }),
    );
    await expect(
      handler()({ runId: RUN_ID, stage: 'sample-candidates', run: runState(), models: MODELS }),
    ).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('lets other SageMaker errors through under their own name', async () => {
    sagemakerMock.on(CreateTrainingJobCommand).rejects(
      new SageMakerServiceException({
        name: 'ResourceLimitExceeded',
        $fault: 'client',
        $metadata: {},
        message: 'quota',
      }),
    );
    await expect(handler()({ runId: RUN_ID, stage: 'train-generator', run: runState() })).rejects.toMatchObject({
      name: 'ResourceLimitExceeded',
    });
  });

  it('refuses a base model the job roles cannot read, before writing or starting anything', async () => {
    const run = runState({ config: { target: { baseModel: 's3://someone-else/llama/' } } });
    await expect(handler()({ runId: RUN_ID, stage: 'train-target', round: 0, run, models: MODELS })).rejects.toThrow(
      'run.config.target.baseModel: must lie under s3://rds-models/',
    );
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(sagemakerMock.calls()).toHaveLength(0);
  });

  it('names the bad field of a malformed event', async () => {
    await expect(handler()({ runId: RUN_ID, stage: 'train-everything', run: runState() })).rejects.toThrow(
      /start-job: invalid input: stage: /,
    );
    await expect(handler()({ runId: 'other-run', stage: 'score', run: runState() })).rejects.toThrow(
      /does not match run.runId/,
    );
  });

  it('reads its configuration from the environment the stack sets', () => {
    const config = configFromEnv({
      PRIVATE_BUCKET: 'p-bucket',
      SYNTHESIS_BUCKET: 's-bucket',
      PRIVATE_KEY_ARN: 'arn:p',
      SYNTHESIS_KEY_ARN: 'arn:s',
      JOB_IMAGE_URI: 'img',
      PRIVATE_JOB_ROLE_ARN: 'arn:role/p',
      SYNTHESIS_JOB_ROLE_ARN: 'arn:role/s',
      PROXY_BASE_MODEL_URI: 's3://m/a/',
      TARGET_BASE_MODEL_URI: 's3://m/b/',
      MODELS_PREFIX_URI: 's3://m/',
      JOB_NAME_PREFIX: 'rewardds-5c1e0a-',
    });
    expect(config).toEqual({
      imageUri: 'img',
      roleArns: { private: 'arn:role/p', synthesis: 'arn:role/s' },
      buckets: { private: 'p-bucket', synthesis: 's-bucket' },
      kmsKeyArns: { private: 'arn:p', synthesis: 'arn:s' },
      baseModels: { proxy: 's3://m/a/', target: 's3://m/b/' },
      modelsPrefix: 's3://m/',
      jobNamePrefix: 'rewardds-5c1e0a-',
    });
    expect(() => configFromEnv({})).toThrow(/PRIVATE_BUCKET/);
  });
});

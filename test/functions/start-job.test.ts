import {
  CreateProcessingJobCommand,
  CreateTrainingJobCommand,
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

function handler(now = 1_760_000_000_000, randoms = [0.25, 0.75]) {
  let i = 0;
  return createHandler({
    sagemaker: new SageMakerClient({ region: 'us-east-1' }),
    s3: new S3Client({ region: 'us-east-1' }),
    config: CONFIG,
    now: () => now,
    random: () => randoms[i++ % randoms.length]!,
  });
}

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

  it('gives every attempt of a stage its own job name', async () => {
    const start = handler();
    const event = { runId: RUN_ID, stage: 'refine', round: 1, run: runState(), models: MODELS };
    const first = await start(event);
    const second = await start(event);
    expect(first.jobName).not.toBe(second.jobName);
    const names = sagemakerMock.commandCalls(CreateProcessingJobCommand).map((c) => c.args[0].input.ProcessingJobName);
    expect(names).toEqual([first.jobName, second.jobName]);
    expect(first).toMatchObject({ kind: 'processing', zone: 'synthesis', round: 1 });
    expect(s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Bucket)).toEqual([
      SYNTHESIS_BUCKET,
      SYNTHESIS_BUCKET,
    ]);
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

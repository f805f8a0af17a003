import { DescribeProcessingJobCommand, DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { JobRef } from '../../core/contract/index.js';
import { createHandler } from '../../functions/describe-job/handler.js';
import {
  MODELS,
  PRIVATE_BUCKET,
  PRIVATE_KEY,
  RUN_ID,
  SYNTHESIS_BUCKET,
  SYNTHESIS_KEY,
} from '../helpers/job-fixtures.js';
import { recordingLogger, recordingMetrics } from '../helpers/memory-s3.js';

const sagemakerMock = mockClient(SageMakerClient);
const s3Mock = mockClient(S3Client);

const describeJob = createHandler({
  sagemaker: new SageMakerClient({ region: 'us-east-1' }),
  s3: new S3Client({ region: 'us-east-1' }),
  config: {
    synthesisBucket: SYNTHESIS_BUCKET,
    synthesisKeyArn: SYNTHESIS_KEY,
    privateBucket: PRIVATE_BUCKET,
    privateKeyArn: PRIVATE_KEY,
  },
  now: () => NOW,
});
const NOW = Date.parse('2026-01-01T12:00:00Z');

const trainingJob = (stage: JobRef['stage'], round: number | null = null): JobRef => ({
  jobName: 'rds-tt1-abcd1234-xyz',
  kind: 'training',
  stage,
  zone: 'synthesis',
  runId: RUN_ID,
  round,
});
const processingJob: JobRef = {
  jobName: 'rds-sc-abcd1234-xyz',
  kind: 'processing',
  stage: 'sample-candidates',
  zone: 'synthesis',
  runId: RUN_ID,
  round: null,
};

beforeEach(() => {
  sagemakerMock.reset();
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).resolves({});
});

describe('describe-job', () => {
  it('reports a running job and writes nothing', async () => {
    sagemakerMock.on(DescribeProcessingJobCommand).resolves({ ProcessingJobStatus: 'InProgress' });
    const out = await describeJob({ job: processingJob, state: 'Sample candidates' });
    expect(out).toEqual({ status: 'InProgress', failureReason: null, modelUri: null, models: {}, waitSeconds: 30 });
    expect(sagemakerMock.commandCalls(DescribeProcessingJobCommand)[0]!.args[0].input).toEqual({
      ProcessingJobName: 'rds-sc-abcd1234-xyz',
    });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('asks to wait as long as the job has run, from 30 s up to a quarter of its stopping limit', async () => {
    const running = (minutesAgo: number, limit: Record<string, number>) =>
      sagemakerMock.on(DescribeTrainingJobCommand).resolves({
        TrainingJobStatus: 'InProgress',
        CreationTime: new Date(NOW - minutesAgo * 60_000),
        StoppingCondition: limit,
      });
    const wait = async () =>
      (await describeJob({ job: trainingJob('train-reward'), state: 'DP-train reward proxy', models: MODELS }))
        .waitSeconds;
    running(0, { MaxRuntimeInSeconds: 86_400 });
    expect(await wait()).toBe(30);
    running(5, { MaxRuntimeInSeconds: 86_400 });
    expect(await wait()).toBe(300);
    running(24 * 60, { MaxRuntimeInSeconds: 86_400 });
    expect(await wait()).toBe(21_600);
    // Spot training: the limit is the whole wait, MaxWaitTimeInSeconds.
    running(48 * 60, { MaxRuntimeInSeconds: 86_400, MaxWaitTimeInSeconds: 172_800 });
    expect(await wait()).toBe(43_200);
    // Short jobs still get checked at least every 15 minutes' cap.
    running(60, { MaxRuntimeInSeconds: 600 });
    expect(await wait()).toBe(900);
  });

  it('adds a finished target round to the models and records the job’s timing', async () => {
    const modelUri = `s3://${SYNTHESIS_BUCKET}/runs/${RUN_ID}/target/round-1/rds-tt1-abcd1234-xyz/output/model/`;
    sagemakerMock.on(DescribeTrainingJobCommand).resolves({
      TrainingJobStatus: 'Completed',
      ModelArtifacts: { S3ModelArtifacts: modelUri },
      TrainingStartTime: new Date('2026-01-01T10:00:00Z'),
      TrainingEndTime: new Date('2026-01-01T11:30:00Z'),
      BillableTimeInSeconds: 5100,
      ResourceConfig: { InstanceType: 'ml.g5.12xlarge', InstanceCount: 1, VolumeSizeInGB: 300 },
      EnableManagedSpotTraining: true,
    });
    const out = await describeJob({
      job: trainingJob('train-target', 1),
      state: 'Fine-tune target (round r)',
      models: { ...MODELS, target: [MODELS.target[0]!] },
    });
    expect(out).toEqual({
      status: 'Completed',
      failureReason: null,
      modelUri,
      models: { ...MODELS, target: [MODELS.target[0], modelUri] },
      waitSeconds: null,
    });

    const put = s3Mock.commandCalls(PutObjectCommand);
    expect(put).toHaveLength(1);
    expect(put[0]!.args[0].input).toMatchObject({
      Bucket: SYNTHESIS_BUCKET,
      Key: `runs/${RUN_ID}/jobs/rds-tt1-abcd1234-xyz.json`,
      SSEKMSKeyId: SYNTHESIS_KEY,
    });
    expect(JSON.parse(put[0]!.args[0].input.Body as string)).toEqual({
      jobName: 'rds-tt1-abcd1234-xyz',
      stage: 'train-target',
      round: 1,
      state: 'Fine-tune target (round r)',
      zone: 'synthesis',
      kind: 'training',
      start: '2026-01-01T10:00:00.000Z',
      end: '2026-01-01T11:30:00.000Z',
      billableSeconds: 5100,
      instanceType: 'ml.g5.12xlarge',
      instanceCount: 1,
      spot: true,
    });
  });

  it('keeps the first generator model in an empty model set', async () => {
    sagemakerMock
      .on(DescribeTrainingJobCommand)
      .resolves({ TrainingJobStatus: 'Completed', ModelArtifacts: { S3ModelArtifacts: MODELS.generator } });
    const out = await describeJob({
      job: { ...trainingJob('train-generator'), zone: 'private' },
      state: 'DP-train generation proxy',
      models: {},
    });
    expect(out.models).toEqual({ generator: MODELS.generator });
  });

  it('fails the state with the job’s FailureReason', async () => {
    sagemakerMock.on(DescribeTrainingJobCommand).resolves({
      TrainingJobStatus: 'Failed',
      FailureReason: 'AlgorithmError: train.jsonl:12: response: missing',
    });
    await expect(
      describeJob({ job: trainingJob('train-reward'), state: 'DP-train reward proxy', models: MODELS }),
    ).rejects.toMatchObject({
      name: 'JobFailed',
      message: 'DP-train reward proxy: rds-tt1-abcd1234-xyz Failed: AlgorithmError: train.jsonl:12: response: missing',
    });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('fails a job stopped at its time limit, naming the limit', async () => {
    sagemakerMock.on(DescribeTrainingJobCommand).resolves({
      TrainingJobStatus: 'Stopped',
      SecondaryStatus: 'MaxRuntimeExceeded',
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    });
    await expect(
      describeJob({ job: trainingJob('train-target', 0), state: 'Fine-tune target (round 0)', models: MODELS }),
    ).rejects.toMatchObject({
      name: 'JobFailed',
      message:
        'Fine-tune target (round 0): rds-tt1-abcd1234-xyz Stopped: MaxRuntimeExceeded (MaxRuntimeInSeconds 3600)',
    });
  });

  describe('a private-zone job', () => {
    const privateJob: JobRef = { ...trainingJob('train-generator'), jobName: 'rds-tg-abcd1234-xyz', zone: 'private' };
    const timing = {
      TrainingStartTime: new Date('2026-01-01T10:00:00Z'),
      TrainingEndTime: new Date('2026-01-01T10:17:43Z'),
      BillableTimeInSeconds: 1063,
      ResourceConfig: { InstanceType: 'ml.g5.2xlarge' as const, InstanceCount: 1, VolumeSizeInGB: 100 },
    };

    it('writes its timing to the private bucket only, and to no log line or metric', async () => {
      sagemakerMock.on(DescribeTrainingJobCommand).resolves({
        TrainingJobStatus: 'Completed',
        ModelArtifacts: { S3ModelArtifacts: MODELS.generator },
        ...timing,
      });
      const logger = recordingLogger();
      const metrics = recordingMetrics();
      const handler = createHandler({
        sagemaker: new SageMakerClient({ region: 'us-east-1' }),
        s3: new S3Client({ region: 'us-east-1' }),
        config: {
          synthesisBucket: SYNTHESIS_BUCKET,
          synthesisKeyArn: SYNTHESIS_KEY,
          privateBucket: PRIVATE_BUCKET,
          privateKeyArn: PRIVATE_KEY,
        },
        logger,
        metrics: { ...metrics, addDimension: () => undefined } as never,
      });
      await handler({ job: privateJob, state: 'DP-train generation proxy', models: {} });
      const put = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
      expect(put).toHaveLength(1);
      expect(put[0]).toMatchObject({
        Bucket: PRIVATE_BUCKET,
        Key: `runs/${RUN_ID}/jobs/rds-tg-abcd1234-xyz.json`,
        SSEKMSKeyId: PRIVATE_KEY,
      });
      expect(JSON.parse(put[0]!.Body as string)).toMatchObject({ billableSeconds: 1063, zone: 'private' });
      expect(JSON.stringify(logger.lines)).not.toMatch(/1063|10:17:43/);
      expect(metrics.added.map((m) => m.name)).not.toContain('JobBillableSeconds');
    });

    it('fails with a phrase of the fixed vocabulary; the raw reason goes to its private record', async () => {
      const raw = 'OutOfMemoryError: CUDA out of memory. Tried to allocate 1.37 GiB (batch of 71 sequences)';
      sagemakerMock
        .on(DescribeTrainingJobCommand)
        .resolves({ TrainingJobStatus: 'Failed', FailureReason: raw, ...timing });
      const error = await describeJob({ job: privateJob, state: 'DP-train generation proxy', models: {} }).catch(
        (e: Error) => e,
      );
      expect(error).toMatchObject({
        name: 'JobFailed',
        message: 'DP-train generation proxy: rds-tg-abcd1234-xyz Failed: out of memory',
      });
      const put = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
      expect(put.map((p) => p.Bucket)).toEqual([PRIVATE_BUCKET]);
      expect(JSON.parse(put[0]!.Body as string)).toMatchObject({ status: 'Failed', failureReason: raw });
    });

    it.each([
      [
        'Failed',
        'AlgorithmError: pairs.jsonl:12: chosen: empty',
        'failed; the reason stays in the private zone (its job record and log)',
      ],
      [
        'Stopped',
        'MaxRuntimeExceeded (MaxRuntimeInSeconds 3600)',
        'stopped at its run-time limit (compute.maxRuntime)',
      ],
      ['Stopped', undefined, 'stopped at its run-time limit (compute.maxRuntime)'],
    ])('maps a %s job with reason %j to %j', async (status, reason, phrase) => {
      sagemakerMock.on(DescribeTrainingJobCommand).resolves({
        TrainingJobStatus: status as 'Failed',
        FailureReason: reason,
        SecondaryStatus: status === 'Stopped' ? 'MaxRuntimeExceeded' : undefined,
        StoppingCondition: { MaxRuntimeInSeconds: 3600 },
      });
      await expect(describeJob({ job: privateJob, state: 'DP-train generation proxy', models: {} })).rejects.toThrow(
        `DP-train generation proxy: rds-tg-abcd1234-xyz ${status}: ${phrase}`,
      );
    });
  });

  it('uses a processing job’s exit message when it failed without a reason', async () => {
    sagemakerMock
      .on(DescribeProcessingJobCommand)
      .resolves({ ProcessingJobStatus: 'Failed', ExitMessage: 'queries.jsonl:3: prompt: empty' });
    await expect(describeJob({ job: processingJob, state: 'Sample candidates' })).rejects.toThrow(
      'Sample candidates: rds-sc-abcd1234-xyz Failed: queries.jsonl:3: prompt: empty',
    );
  });

  it('prefers a processing job’s exit message (/opt/ml/output/message) to SageMaker’s generic reason', async () => {
    sagemakerMock.on(DescribeProcessingJobCommand).resolves({
      ProcessingJobStatus: 'Failed',
      FailureReason: 'AlgorithmError: See job logs for more information',
      ExitMessage: 'score: candidates.jsonl:7: response: missing',
    });
    await expect(describeJob({ job: processingJob, state: 'Sample candidates' })).rejects.toThrow(
      'Sample candidates: rds-sc-abcd1234-xyz Failed: score: candidates.jsonl:7: response: missing',
    );
  });

  it('uses a training job’s FailureReason (/opt/ml/output/failure), which has no exit message', async () => {
    sagemakerMock.on(DescribeTrainingJobCommand).resolves({
      TrainingJobStatus: 'Failed',
      FailureReason: 'AlgorithmError: train.jsonl:12: response: missing',
    });
    await expect(describeJob({ job: trainingJob('train-reward'), state: 'DP-train reward proxy' })).rejects.toThrow(
      'DP-train reward proxy: rds-tt1-abcd1234-xyz Failed: AlgorithmError: train.jsonl:12: response: missing',
    );
  });
});

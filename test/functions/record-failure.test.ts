import { PRIVATE_JOB_REASONS } from '../../core/contract/index.js';
import {
  DescribeProcessingJobCommand,
  DescribeTrainingJobCommand,
  SageMakerClient,
  StopProcessingJobCommand,
  StopTrainingJobCommand,
} from '@aws-sdk/client-sagemaker';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/record-failure/handler.js';
import type { JobRef } from '../../core/contract/index.js';
import { RUN_ID, SYNTHESIS_BUCKET, SYNTHESIS_KEY } from '../helpers/job-fixtures.js';

const sagemakerMock = mockClient(SageMakerClient);
const s3Mock = mockClient(S3Client);
const AT = new Date('2026-02-03T04:05:06Z');

const recordFailure = createHandler({
  sagemaker: new SageMakerClient({ region: 'us-east-1' }),
  s3: new S3Client({ region: 'us-east-1' }),
  config: { synthesisBucket: SYNTHESIS_BUCKET, synthesisKeyArn: SYNTHESIS_KEY },
  now: () => AT,
});

const trainingJob: JobRef = {
  jobName: 'rds-tg-abcd1234-xyz',
  kind: 'training',
  stage: 'train-generator',
  zone: 'private',
  runId: RUN_ID,
  round: null,
};
const lambdaCause = (message: string) =>
  JSON.stringify({ errorType: 'Error', errorMessage: message, trace: ['at x (/var/task/index.js:1:1)'] });

beforeEach(() => {
  sagemakerMock.reset();
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).resolves({});
});

function failureJson() {
  const put = s3Mock.commandCalls(PutObjectCommand);
  expect(put).toHaveLength(1);
  expect(put[0]!.args[0].input).toMatchObject({
    Bucket: SYNTHESIS_BUCKET,
    Key: `runs/${RUN_ID}/failure.json`,
    SSEKMSKeyId: SYNTHESIS_KEY,
  });
  return JSON.parse(put[0]!.args[0].input.Body as string) as unknown;
}

describe('record-failure', () => {
  it('stops the job that still runs and records the failure next to the run', async () => {
    sagemakerMock.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: 'InProgress' });
    sagemakerMock.on(StopTrainingJobCommand).resolves({});
    // The catch-all passes the whole state; only runId, failedState, error and job count.
    const out = await recordFailure({
      runId: RUN_ID,
      upload: { bucket: 'b', key: 'incoming/x.jsonl', etag: 'e' },
      job: trainingJob,
      failedState: 'DP-train generation proxy',
      error: { Error: 'Lambda.Unknown', Cause: 'The Lambda function timed out' },
    });
    expect(sagemakerMock.commandCalls(StopTrainingJobCommand).map((c) => c.args[0].input)).toEqual([
      { TrainingJobName: 'rds-tg-abcd1234-xyz' },
    ]);
    // A private-zone state: the cause that crosses is the vocabulary's, whatever the raw one said.
    expect(failureJson()).toEqual({
      state: 'DP-train generation proxy',
      error: 'Lambda.Unknown',
      cause: 'failed; the reason stays in the private zone',
      at: '2026-02-03T04:05:06.000Z',
    });
    expect(out).toEqual({
      error: 'Lambda.Unknown',
      cause: 'DP-train generation proxy: failed; the reason stays in the private zone',
    });
  });

  it('leaves a job that already ended alone and keeps JobFailed’s own message', async () => {
    sagemakerMock.on(DescribeProcessingJobCommand).resolves({ ProcessingJobStatus: 'Failed' });
    const message = 'Score candidates: rds-ss0-abcd1234-xyz Failed: candidates.jsonl:4: candidates: empty list';
    const out = await recordFailure({
      runId: RUN_ID,
      failedState: 'Score candidates',
      job: {
        ...trainingJob,
        jobName: 'rds-ss0-abcd1234-xyz',
        kind: 'processing',
        stage: 'score',
        zone: 'synthesis',
        round: 0,
      },
      error: { Error: 'JobFailed', Cause: lambdaCause(message) },
    });
    expect(sagemakerMock.commandCalls(StopProcessingJobCommand)).toHaveLength(0);
    expect(failureJson()).toMatchObject({ state: 'Score candidates', error: 'JobFailed', cause: message });
    expect(out).toEqual({ error: 'JobFailed', cause: message });
  });

  it('touches no job when the run failed before its first one', async () => {
    const out = await recordFailure({
      runId: RUN_ID,
      failedState: 'Prepare run',
      error: { Error: 'InputRejected', Cause: lambdaCause('train.jsonl:7: output: missing') },
    });
    expect(sagemakerMock.calls()).toHaveLength(0);
    // The line number of the private upload stays in its quarantine report.
    const phrase = 'the upload was rejected; the reason is in its quarantine report in the private bucket';
    expect(out).toEqual({ error: 'InputRejected', cause: `Prepare run: ${phrase}` });
    expect(failureJson()).toMatchObject({ cause: phrase });
    expect(JSON.stringify(failureJson())).not.toContain('7');
  });

  it('still records the failure when the job cannot be stopped', async () => {
    sagemakerMock.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: 'InProgress' });
    sagemakerMock.on(StopTrainingJobCommand).rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
    await recordFailure({
      runId: RUN_ID,
      failedState: 'DP-train generation proxy',
      job: trainingJob,
      error: { Error: 'States.Timeout' },
    });
    expect(failureJson()).toMatchObject({ error: 'States.Timeout', cause: 'timed out' });
  });

  it('lets a private job’s JobFailed cross only with a phrase of the vocabulary, never its raw reason', async () => {
    sagemakerMock.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: 'Failed' });
    const run = (cause: string) =>
      recordFailure({
        runId: RUN_ID,
        failedState: 'DP-train generation proxy',
        job: trainingJob,
        error: { Error: 'JobFailed', Cause: lambdaCause(cause) },
      });
    const phrased = `DP-train generation proxy: rds-tg-abcd1234-xyz Failed: ${PRIVATE_JOB_REASONS.outOfMemory}`;
    expect(await run(phrased)).toEqual({ error: 'JobFailed', cause: phrased });
    s3Mock.resetHistory();
    const raw =
      'DP-train generation proxy: rds-tg-abcd1234-xyz Failed: OutOfMemoryError: CUDA out of memory. Tried to allocate 1.37 GiB';
    const out = await run(raw);
    expect(out).toEqual({ error: 'JobFailed', cause: `DP-train generation proxy: ${PRIVATE_JOB_REASONS.failed}` });
    expect(JSON.stringify(failureJson())).not.toMatch(/1\.37|GiB/);
  });
});

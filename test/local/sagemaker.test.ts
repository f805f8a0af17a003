/**
 * The local SageMaker backend against moto's real S3 protocol. The job body here is a
 * stand-in package written by the test (so this file does not depend on how long a real
 * stage takes); it checks the SageMaker layout from inside the process and echoes what it
 * saw, so every assertion is about what the backend really laid out and uploaded.
 */
import {
  CreateProcessingJobCommand,
  CreateTrainingJobCommand,
  DescribeProcessingJobCommand,
  DescribeTrainingJobCommand,
  StopProcessingJobCommand,
  type CreateProcessingJobRequest,
  type CreateTrainingJobRequest,
} from '@aws-sdk/client-sagemaker';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson } from '../../functions/shared/s3-objects.js';
import {
  channelRelativePath,
  LocalSageMaker,
  mapContainerPath,
  jobLayout,
  stageOf,
} from '../../local/sagemaker/index.js';
import { createKmsKey, s3ClientFor, startS3Server, type S3Server } from '../../local/s3-server.js';

const FAKE_MAIN = `
import json, os, sys, time, pathlib
stage = sys.argv[1]
env = os.environ
def out_failure(msg):
    p = pathlib.Path(env["SM_OUTPUT_DIR"]) / "failure"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(msg + "\\n")
    sys.exit(1)
if stage == "echo-train":
    hp = json.loads((pathlib.Path(env["SM_INPUT_DIR"]) / "config" / "hyperparameters.json").read_text())
    train = pathlib.Path(env["SM_CHANNEL_TRAIN"])
    assert train == pathlib.Path(env["SM_INPUT_DIR"]) / "data" / "train"
    lines = (train / "train.jsonl").read_text().splitlines()
    cfg = json.loads((pathlib.Path(env["SM_INPUT_DIR"]) / "data" / "config" / "config.json").read_text())
    model = pathlib.Path(env["SM_MODEL_DIR"]); (model / "sub").mkdir(parents=True)
    (model / "config.json").write_text(json.dumps({"hp": hp, "lines": len(lines), "cfg": cfg,
        "aws": sorted(k for k in env if k.startswith("AWS_")), "offline": env.get("HF_HUB_OFFLINE")}))
    (model / "sub" / "weights.bin").write_bytes(b"\\x00\\x01")
    data = pathlib.Path(env["SM_OUTPUT_DATA_DIR"]); data.mkdir(parents=True, exist_ok=True)
    (data / "metrics.json").write_text(json.dumps({"records": len(lines)}))
elif stage == "echo-process":
    root = pathlib.Path(env["SM_PROCESSING_DIR"])
    rows = (root / "input" / "queries" / "queries.jsonl").read_text().splitlines()
    out = root / "output" / "scores"
    (out / "scores.jsonl").write_text("".join(json.dumps({"id": json.loads(r)["id"]}) + "\\n" for r in rows))
elif stage == "bad-input":
    out_failure("train.jsonl:3: response: missing")
elif stage == "crash":
    print("traceback would be here")
    sys.exit(3)
elif stage == "self-kill":
    model = pathlib.Path(env["SM_MODEL_DIR"]); model.mkdir(parents=True, exist_ok=True)
    (model / "half-written.bin").write_bytes(b"\\x00")
    import signal
    os.kill(os.getpid(), signal.SIGKILL)
elif stage == "sleep":
    time.sleep(60)
else:
    out_failure("unknown stage " + stage)
`;

let server: S3Server;
let s3: S3Client;
let work: string;
let keyArn: string;
const BUCKET = 'private-local';

beforeAll(async () => {
  server = await startS3Server();
  s3 = s3ClientFor(server);
  keyArn = await createKmsKey(server);
  work = mkdtempSync(join(tmpdir(), 'rewardds-sm-'));
  mkdirSync(join(work, 'pkg', 'rewardds_jobs'), { recursive: true });
  writeFileSync(join(work, 'pkg', 'rewardds_jobs', '__init__.py'), '');
  writeFileSync(join(work, 'pkg', 'rewardds_jobs', '__main__.py'), FAKE_MAIN);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const put = (Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
  await put('runs/r1/input/train.jsonl', '{"id":"a"}\n{"id":"b"}\n{"id":"c"}\n');
  await put('runs/r1/config/job-1/config.json', '{"epochs":1}');
  await put('runs/r1/queries/queries.jsonl', '{"id":"q-000000"}\n{"id":"q-000001"}\n');
});

afterAll(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function backend(extra: Partial<ConstructorParameters<typeof LocalSageMaker>[0]> = {}) {
  return new LocalSageMaker({ s3, workdir: join(work, 'wd'), jobsDir: join(work, 'pkg'), failStages: [], ...extra });
}

function trainingRequest(name: string, stage: string, maxRuntime = 600): CreateTrainingJobRequest {
  return {
    TrainingJobName: name,
    RoleArn: 'arn:aws:iam::000000000000:role/jobs',
    AlgorithmSpecification: { TrainingImage: 'local/rewardds-jobs', TrainingInputMode: 'File' },
    HyperParameters: { stage },
    InputDataConfig: [
      {
        ChannelName: 'train',
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/runs/r1/input/train.jsonl` } },
      },
      {
        ChannelName: 'config',
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/runs/r1/config/job-1/` } },
      },
    ],
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/runs/r1/generator/`, KmsKeyId: keyArn, CompressionType: 'NONE' },
    ResourceConfig: { InstanceType: 'ml.g5.2xlarge', InstanceCount: 1, VolumeSizeInGB: 50 },
    StoppingCondition: { MaxRuntimeInSeconds: maxRuntime },
  };
}

function processingRequest(
  name: string,
  stage: string,
  queriesUri = `s3://${BUCKET}/runs/r1/queries/`,
): CreateProcessingJobRequest {
  return {
    ProcessingJobName: name,
    RoleArn: 'arn:aws:iam::000000000000:role/jobs',
    AppSpecification: {
      ImageUri: 'local/rewardds-jobs',
      ContainerEntrypoint: ['python', '-m', 'rewardds_jobs'],
      ContainerArguments: [stage],
    },
    ProcessingInputs: [
      {
        InputName: 'queries',
        S3Input: {
          S3Uri: queriesUri,
          LocalPath: '/opt/ml/processing/input/queries',
          S3DataType: 'S3Prefix',
          S3InputMode: 'File',
        },
      },
    ],
    ProcessingOutputConfig: {
      KmsKeyId: keyArn,
      Outputs: [
        {
          OutputName: 'scores',
          S3Output: {
            S3Uri: `s3://${BUCKET}/runs/r1/scores/round-0`,
            LocalPath: '/opt/ml/processing/output/scores',
            S3UploadMode: 'EndOfJob',
          },
        },
      ],
    },
    ProcessingResources: { ClusterConfig: { InstanceType: 'ml.g5.2xlarge', InstanceCount: 1, VolumeSizeInGB: 50 } },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
  };
}

async function settle(sm: LocalSageMaker, name: string, kind: 'training' | 'processing') {
  for (;;) {
    const out =
      kind === 'training'
        ? await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name }))
        : await sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: name }));
    const status = kind === 'training' ? out.TrainingJobStatus : out.ProcessingJobStatus;
    if (status !== 'InProgress' && status !== 'Stopping') return out;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('local SageMaker backend', () => {
  it('runs a training job in the SageMaker layout and uploads the model where SageMaker would, SSE-KMS', async () => {
    const sm = backend();
    const created = await sm.send(new CreateTrainingJobCommand(trainingRequest('gen-1', 'echo-train')));
    expect(created.TrainingJobArn).toMatch(/training-job\/gen-1$/);
    const first = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'gen-1' }));
    expect(first.TrainingJobStatus).toBe('InProgress');

    const done = await settle(sm, 'gen-1', 'training');
    expect(done.TrainingJobStatus).toBe('Completed');
    expect(done.FailureReason).toBeUndefined();
    expect(done.ModelArtifacts.S3ModelArtifacts).toBe(`s3://${BUCKET}/runs/r1/generator/gen-1/output/model/`);
    expect(done.BillableTimeInSeconds).toBeGreaterThanOrEqual(1);
    expect(done.TrainingEndTime.getTime()).toBeGreaterThanOrEqual(done.TrainingStartTime.getTime());

    const model = await getJson<any>(s3, BUCKET, 'runs/r1/generator/gen-1/output/model/config.json');
    expect(model.hp).toEqual({ stage: 'echo-train' });
    expect(model.lines).toBe(3);
    expect(model.cfg).toEqual({ epochs: 1 });
    expect(model.aws).toEqual([]); // a job never gets AWS credentials
    expect(model.offline).toBe('1');
    const weights = await s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: 'runs/r1/generator/gen-1/output/model/sub/weights.bin' }),
    );
    expect(weights.ServerSideEncryption).toBe('aws:kms');
    expect(weights.SSEKMSKeyId).toContain(keyArn.split('/').pop());
    expect(await getJson(s3, BUCKET, 'runs/r1/generator/gen-1/output/data/metrics.json')).toEqual({ records: 3 });
    expect(readFileSync(sm.logPath('gen-1'), 'utf8')).toBe('');
  });

  it('runs a processing job: inputs at LocalPath, each output folder to its S3Uri', async () => {
    const sm = backend();
    await sm.send(new CreateProcessingJobCommand(processingRequest('score-1', 'echo-process')));
    const done = await settle(sm, 'score-1', 'processing');
    expect(done.ProcessingJobStatus).toBe('Completed');
    const out = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'runs/r1/scores/round-0/scores.jsonl' }));
    expect(out.ServerSideEncryption).toBe('aws:kms');
    expect(sm.list()).toEqual([
      expect.objectContaining({ name: 'score-1', stage: 'echo-process', status: 'Completed' }),
    ]);
  });

  it('reports the failure file as FailureReason and uploads nothing', async () => {
    const sm = backend();
    const request = trainingRequest('gen-bad', 'bad-input');
    await sm.send(new CreateTrainingJobCommand(request));
    const done = await settle(sm, 'gen-bad', 'training');
    expect(done.TrainingJobStatus).toBe('Failed');
    expect(done.FailureReason).toBe('train.jsonl:3: response: missing');
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'runs/r1/generator/gen-bad/output/model/config.json' })),
    ).rejects.toThrow();
  });

  it('names the exit code, not the log, when a job dies without a failure file', async () => {
    const sm = backend();
    await sm.send(new CreateProcessingJobCommand(processingRequest('crash-1', 'crash')));
    const done = await settle(sm, 'crash-1', 'processing');
    expect(done.ProcessingJobStatus).toBe('Failed');
    expect(done.FailureReason).toBe('AlgorithmError: the job exited with code 3; see its log');
    expect(readFileSync(sm.logPath('crash-1'), 'utf8')).toContain('traceback would be here');
  });

  it('fails a job killed by a signal, naming the signal, and uploads nothing it left behind', async () => {
    const sm = backend();
    await sm.send(new CreateTrainingJobCommand(trainingRequest('gen-killed', 'self-kill')));
    const done = await settle(sm, 'gen-killed', 'training');
    expect(done.TrainingJobStatus).toBe('Failed');
    expect(done.FailureReason).toBe('AlgorithmError: the job was killed by signal SIGKILL; see its log');
    await expect(
      s3.send(
        new HeadObjectCommand({ Bucket: BUCKET, Key: 'runs/r1/generator/gen-killed/output/model/half-written.bin' }),
      ),
    ).rejects.toThrow();
  });

  it('fails with ClientError when an input prefix holds no object', async () => {
    const sm = backend();
    await sm.send(
      new CreateProcessingJobCommand(processingRequest('empty-1', 'echo-process', `s3://${BUCKET}/runs/r1/nothing/`)),
    );
    const done = await settle(sm, 'empty-1', 'processing');
    expect(done.ProcessingJobStatus).toBe('Failed');
    expect(done.FailureReason).toContain('No S3 objects found under S3 URL');
  });

  it('fails an injected stage through the failure file, without running the stage', async () => {
    const sm = backend({ failStages: ['echo-process'] });
    await sm.send(new CreateProcessingJobCommand(processingRequest('inj-1', 'echo-process')));
    const done = await settle(sm, 'inj-1', 'processing');
    expect(done.ProcessingJobStatus).toBe('Failed');
    expect(done.FailureReason).toBe('injected failure: REWARDDS_LOCAL_FAIL_STAGE names stage echo-process');
  });

  it('stops a running job on StopProcessingJob and on MaxRuntimeInSeconds', async () => {
    const sm = backend();
    await sm.send(new CreateProcessingJobCommand(processingRequest('sleep-1', 'sleep')));
    // Stop it while the process runs, not while its inputs download.
    while (
      (await sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: 'sleep-1' }))).ProcessingStartTime ===
      undefined
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await sm.send(new StopProcessingJobCommand({ ProcessingJobName: 'sleep-1' }));
    const stopped = await settle(sm, 'sleep-1', 'processing');
    expect(stopped.ProcessingJobStatus).toBe('Stopped');
    expect(stopped.FailureReason).toBe('Stopped by StopJob request');
    await expect(sm.send(new StopProcessingJobCommand({ ProcessingJobName: 'sleep-1' }))).rejects.toMatchObject({
      name: 'ValidationException',
    });

    await sm.send(new CreateTrainingJobCommand(trainingRequest('sleep-2', 'sleep', 1)));
    const timedOut = await settle(sm, 'sleep-2', 'training');
    expect(timedOut.TrainingJobStatus).toBe('Stopped');
    expect(timedOut.SecondaryStatus).toBe('MaxRuntimeExceeded');
    expect(timedOut.FailureReason).toMatch(/^MaxRuntimeExceeded/);
  });

  it('refuses a duplicate job name and an unknown job as SageMaker does', async () => {
    const sm = backend();
    await sm.send(new CreateProcessingJobCommand(processingRequest('dup-1', 'echo-process')));
    await expect(
      sm.send(new CreateProcessingJobCommand(processingRequest('dup-1', 'echo-process'))),
    ).rejects.toMatchObject({ name: 'ResourceInUse' });
    await expect(sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'dup-1' }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await sm.shutdown();
  });
});

describe('pure helpers', () => {
  it('maps container paths under the job folder', () => {
    const layout = jobLayout('/w/jobs/j');
    expect(mapContainerPath('/opt/ml/processing/input/train/', layout)).toBe('/w/jobs/j/processing/input/train');
    expect(mapContainerPath('/data/x', layout)).toBe('/w/jobs/j/fs/data/x');
  });

  it('lays S3Prefix objects out below the prefix folder', () => {
    expect(channelRelativePath('runs/r/input/train.jsonl', 'runs/r/input/train.jsonl')).toBe('train.jsonl');
    expect(channelRelativePath('models/proxy/', 'models/proxy/config.json')).toBe('config.json');
    expect(channelRelativePath('models/proxy', 'models/proxy/sub/a.bin')).toBe('sub/a.bin');
    expect(channelRelativePath('runs/r/gen/job/output/model/', 'runs/r/gen/job/output/model/adapter_config.json')).toBe(
      'adapter_config.json',
    );
  });

  it('finds the stage in hyperparameters, container arguments or environment', () => {
    expect(stageOf({ stage: '"train-reward"' }, undefined, undefined)).toBe('train-reward');
    expect(stageOf(undefined, ['-m', 'rewardds_jobs', 'score'], undefined)).toBe('score');
    expect(stageOf(undefined, ['refine'], undefined)).toBe('refine');
    expect(stageOf(undefined, undefined, { REWARDDS_STAGE: 'evaluate' })).toBe('evaluate');
    expect(() => stageOf(undefined, undefined, undefined)).toThrow(/no rewardds_jobs stage/);
  });
});

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
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  baseEnv,
  defaultPython,
  warmLauncher,
  type JobLauncher,
  type LocalJobEvent,
} from '../../local/sagemaker/index.js';
import { jobLine } from '../../local/runner.js';
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
elif stage == "spawn-sleep":
    import subprocess
    worker = subprocess.Popen(["sleep", "60"])
    pathlib.Path(env["SM_OUTPUT_DIR"]).mkdir(parents=True, exist_ok=True)
    (pathlib.Path(env["SM_OUTPUT_DIR"]) / "worker.pid").write_text(str(worker.pid))
    time.sleep(60)
elif stage == "raise":
    raise RuntimeError("uncaught in the job")
elif stage == "leak-set":
    # Everything a job could leave behind for the next one, if jobs shared a process.
    json.rewardds_leak = "set by an earlier job"
    os.environ["REWARDDS_LEAK"] = "set by an earlier job"
    import random, numpy; random.seed(1234); numpy.random.seed(1234)
elif stage == "probe":
    import random, numpy
    out = pathlib.Path(env["SM_PROCESSING_DIR"]) / "output" / "scores"
    (out / "probe.json").write_text(json.dumps({
        "env": dict(env), "cwd": os.getcwd(), "path0": sys.path[0], "argv0": sys.argv[0],
        "ownGroup": os.getpgid(0) == os.getpid(), "leakGlobal": hasattr(json, "rewardds_leak"),
        "draw": random.random(), "npDraw": numpy.random.random()}))
elif stage == "kill-server":
    import signal
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(30)
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

/** The warm launcher of the describe block that runs, if it runs warm jobs. */
let launcher: JobLauncher | undefined;

function backend(extra: Partial<ConstructorParameters<typeof LocalSageMaker>[0]> = {}) {
  return new LocalSageMaker({
    s3,
    workdir: join(work, 'wd'),
    jobsDir: join(work, 'pkg'),
    failStages: [],
    launcher,
    ...extra,
  });
}

/** A warm job process serving the stand-in package; `json` and `numpy` stand in for the heavy preloads. */
function warmForTests(extra: Partial<Parameters<typeof warmLauncher>[0]> = {}) {
  return warmLauncher({
    python: defaultPython(),
    env: { ...baseEnv(), PYTHONPATH: join(work, 'pkg'), REWARDDS_SERVER_ONLY: 'the server environment' },
    logPath: join(work, 'warm.log'),
    preload: ['json', 'numpy.random'],
    ...extra,
  });
}

/** Waits until a job's process runs (not while its inputs download). */
async function waitUntilRunning(sm: LocalSageMaker, name: string) {
  while (
    (await sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: name }))).ProcessingStartTime === undefined
  ) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A process that is gone, or a zombie waiting to be reaped (it runs nothing any more). */
function ended(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return true;
  }
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

describe.each(['cold', 'warm'] as const)('local SageMaker backend, %s jobs', (mode) => {
  beforeAll(async () => {
    if (mode === 'warm') {
      launcher = warmForTests();
      expect(await launcher.ready()).toEqual({ kind: 'warm' });
    }
  });

  afterAll(async () => {
    await launcher?.close();
    launcher = undefined;
  });

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
    await waitUntilRunning(sm, 'sleep-1');
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

  it('answers a Describe of a running job at once by default, and when the job ends with describeWaitMs', async () => {
    /** Creates a job, then times one Describe sent right after. */
    const describeAfterCreate = async (name: string, stage: string, describeWaitMs?: number) => {
      const sm = backend(describeWaitMs === undefined ? {} : { describeWaitMs });
      await sm.send(new CreateProcessingJobCommand(processingRequest(name, stage)));
      const started = performance.now();
      const out = await sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: name }));
      const ms = performance.now() - started;
      await sm.shutdown();
      return { status: out.ProcessingJobStatus, ms };
    };
    expect((await describeAfterCreate('hold-0', 'echo-process')).status).toBe('InProgress');
    const ended = await describeAfterCreate('hold-1', 'echo-process', 60_000);
    expect(ended.status).toBe('Completed');
    expect(ended.ms).toBeLessThan(30_000);
    // A job that outlives the hold: the answer comes after describeWaitMs, still running.
    const capped = await describeAfterCreate('hold-2', 'sleep', 300);
    expect(capped.status).toBe('InProgress');
    expect(capped.ms).toBeGreaterThanOrEqual(290);
  });

  it("ends the job's whole process group on a stop, the processes it started included", async () => {
    const sm = backend();
    await sm.send(new CreateProcessingJobCommand(processingRequest('group-1', 'spawn-sleep')));
    const pidFile = join(work, 'wd', 'jobs', 'group-1', 'output', 'worker.pid');
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8') === '') await new Promise((r) => setTimeout(r, 50));
    const worker = Number(readFileSync(pidFile, 'utf8'));
    expect(ended(worker)).toBe(false);
    await sm.send(new StopProcessingJobCommand({ ProcessingJobName: 'group-1' }));
    expect((await settle(sm, 'group-1', 'processing')).ProcessingJobStatus).toBe('Stopped');
    for (let i = 0; i < 100 && !ended(worker); i += 1) await new Promise((r) => setTimeout(r, 50));
    expect(ended(worker)).toBe(true);
  });

  it('fails a job that raises, with its exit code 1 and the traceback in its log only', async () => {
    const sm = backend();
    await sm.send(new CreateProcessingJobCommand(processingRequest('raise-1', 'raise')));
    const done = await settle(sm, 'raise-1', 'processing');
    expect(done.FailureReason).toBe('AlgorithmError: the job exited with code 1; see its log');
    expect(readFileSync(sm.logPath('raise-1'), 'utf8')).toMatch(/Traceback[\s\S]*RuntimeError: uncaught in the job/);
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

describe('the warm job process', () => {
  const probe = async (sm: LocalSageMaker, name: string) => {
    await sm.send(new CreateProcessingJobCommand(processingRequest(name, 'probe')));
    expect((await settle(sm, name, 'processing')).ProcessingJobStatus).toBe('Completed');
    const layout = jobLayout(join(work, 'wd', 'jobs', name));
    return JSON.parse(readFileSync(mapContainerPath('/opt/ml/processing/output/scores/probe.json', layout), 'utf8'));
  };
  /** What differs between two jobs by construction: the paths of their own job folders. */
  const relativeToJob = (value: string, name: string) => value.split(join(work, 'wd', 'jobs', name)).join('<job>');
  const comparable = (p: any, name: string) => ({
    env: Object.fromEntries(
      Object.entries(p.env as Record<string, string>).map(([k, v]) => [k, relativeToJob(v, name)]),
    ),
    cwd: relativeToJob(p.cwd, name),
    path0: relativeToJob(p.path0, name),
    argv0: p.argv0,
    ownGroup: p.ownGroup,
  });

  it('gives each job exactly what a plain subprocess gets, and nothing an earlier job set', async () => {
    const cold = await probe(backend({ launcher: undefined }), 'probe-cold');
    const warm = warmForTests();
    try {
      const sm = backend({ launcher: warm });
      await sm.send(new CreateProcessingJobCommand(processingRequest('leak-1', 'leak-set')));
      expect((await settle(sm, 'leak-1', 'processing')).ProcessingJobStatus).toBe('Completed');
      const first = await probe(sm, 'probe-warm-1');
      const second = await probe(sm, 'probe-warm-2');

      expect(comparable(first, 'probe-warm-1')).toEqual(comparable(cold, 'probe-cold'));
      expect(first.env.REWARDDS_SERVER_ONLY).toBeUndefined();
      expect(first.env.TRANSFORMERS_VERBOSITY).toBeUndefined(); // the server's import-time defaults stay its own
      expect(first.ownGroup).toBe(true);
      for (const p of [first, second]) {
        expect(p.leakGlobal).toBe(false);
        expect(p.env.REWARDDS_LEAK).toBeUndefined();
        expect(p.draw).not.toBe(0.9664535356921388); // random.seed(1234) then random()
        expect(p.npDraw).not.toBe(0.1915194503788923); // numpy.random.seed(1234) then random()
      }
      // Each fork draws from its own seed, as a fresh interpreter would.
      expect(first.draw).not.toBe(second.draw);
      expect(first.npDraw).not.toBe(second.npDraw);
    } finally {
      await warm.close();
    }
  });

  it('falls back to one plain subprocess per job when it cannot start, and says so', async () => {
    const lines: string[] = [];
    const broken = warmForTests({ python: join(work, 'no-such-python'), onReady: (line) => lines.push(line) });
    const mode = await broken.ready();
    expect(mode).toEqual({ kind: 'cold', why: expect.stringMatching(/^warm job process could not start/) });
    expect(lines).toEqual([expect.stringMatching(/could not start .*: each job runs as a plain subprocess$/)]);
    const events: LocalJobEvent[] = [];
    const sm = backend({ launcher: broken, onJobEvent: (e) => events.push(e) });
    await sm.send(new CreateProcessingJobCommand(processingRequest('fallback-1', 'echo-process')));
    expect((await settle(sm, 'fallback-1', 'processing')).ProcessingJobStatus).toBe('Completed');
    const running = events.find((e) => e.status === 'InProgress')!;
    expect(running.mode).toEqual(mode);
    expect(jobLine(running)).toMatch(/running as a plain subprocess \(warm job process could not start/);
    await broken.close();
  });

  it('fails the jobs it was running if it dies, and starts later ones as plain subprocesses', async () => {
    const warm = warmForTests();
    try {
      const sm = backend({ launcher: warm });
      await sm.send(new CreateProcessingJobCommand(processingRequest('orphan-1', 'kill-server')));
      const orphan = await settle(sm, 'orphan-1', 'processing');
      expect(orphan.ProcessingJobStatus).toBe('Failed');
      expect(orphan.FailureReason).toMatch(/^AlgorithmError: the warm job process ended \(SIGKILL/);
      const events: LocalJobEvent[] = [];
      const later = backend({ launcher: warm, onJobEvent: (e) => events.push(e) });
      await later.send(new CreateProcessingJobCommand(processingRequest('after-1', 'echo-process')));
      expect((await settle(later, 'after-1', 'processing')).ProcessingJobStatus).toBe('Completed');
      expect(events.find((e) => e.status === 'InProgress')!.mode).toEqual({
        kind: 'cold',
        why: expect.stringMatching(/^warm job process ended/),
      });
    } finally {
      await warm.close();
    }
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

/**
 * The local SageMaker stand-in with its job cache, against moto's real S3 protocol. The
 * job body is a stand-in package written by the test whose outputs carry fresh random
 * bytes on every run (as a DP training's noise does), so a reused output is told apart
 * from a rerun by its bytes alone.
 */
import {
  CreateProcessingJobCommand,
  CreateTrainingJobCommand,
  DescribeProcessingJobCommand,
  DescribeTrainingJobCommand,
  type CreateProcessingJobRequest,
  type CreateTrainingJobRequest,
} from '@aws-sdk/client-sagemaker';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobName } from '../../core/sagemaker/index.js';
import { listKeys } from '../../functions/shared/s3-objects.js';
import { LocalSageMaker, type LocalJobEvent } from '../../local/sagemaker/index.js';
import { JobCache } from '../../local/sagemaker/job-cache.js';
import { jobLine } from '../../local/runner.js';
import { createKmsKey, s3ClientFor, startS3Server, type S3Server } from '../../local/s3-server.js';

const FAKE_MAIN = `
import hashlib, json, os, sys, pathlib
stage = sys.argv[1]
env = os.environ
nonce = os.urandom(8).hex()
if stage == "noisy-train":
    train = (pathlib.Path(env["SM_CHANNEL_TRAIN"]) / "train.jsonl").read_bytes()
    cfg = (pathlib.Path(env["SM_CHANNEL_CONFIG"]) / "config.json").read_bytes()
    model = pathlib.Path(env["SM_MODEL_DIR"]); (model / "sub").mkdir(parents=True, exist_ok=True)
    (model / "sub" / "weights.bin").write_bytes(bytes.fromhex(nonce) + hashlib.sha256(train + cfg).digest())
    (model / "metrics.json").write_text(json.dumps({"nonce": nonce}))
    data = pathlib.Path(env["SM_OUTPUT_DATA_DIR"]); data.mkdir(parents=True, exist_ok=True)
    (data / "metrics.json").write_text(json.dumps({"nonce": nonce}))
    print("trained with nonce", nonce)
elif stage == "noisy-generate":
    root = pathlib.Path(env["SM_PROCESSING_DIR"])
    rows = (root / "input" / "queries" / "queries.jsonl").read_text().splitlines()
    out = root / "output" / "candidates"
    (out / "candidates.jsonl").write_text("".join(json.dumps({"q": r, "nonce": nonce}) + "\\n" for r in rows))
else:
    sys.exit(2)
`;

const PRIV = 'private-local';
const SYNTH = 'synthesis-local';

let server: S3Server;
let s3: S3Client;
let work: string;
let KEY_ARN: string;

/** Job names as the request builder makes them: the run's part of the name is `-<8 hex>-a<attempt>`. */
const tgName = (run: string) => jobName('rds-', run, 'train-generator', 0, 0);
const scName = (run: string) => jobName('rds-', run, 'sample-candidates', 0, 0);

const put = (Bucket: string, Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket, Key, Body }));

async function getText(bucket: string, key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body!.transformToString();
}

/** Every object under a prefix, by its key below the prefix → its text. */
async function objects(bucket: string, prefix: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for await (const o of listKeys(s3, bucket, prefix)) found[o.key.slice(prefix.length)] = await getText(bucket, o.key);
  return found;
}

/** One run's inputs: the same bytes under the run's own prefix unless told otherwise. */
async function seedRun(run: string, train = '{"id":"a"}\n{"id":"b"}\n', config = '{"seed":1,"epochs":1}') {
  await put(PRIV, `runs/${run}/input/train.jsonl`, train);
  await put(PRIV, `runs/${run}/config/${tgName(run)}/config.json`, config);
  await put(SYNTH, `runs/${run}/queries/queries.jsonl`, '{"id":"q1"}\n{"id":"q2"}\n');
}

function trainingRequest(run: string): CreateTrainingJobRequest {
  const channel = (name: string, uri: string) => ({
    ChannelName: name,
    DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: uri } },
  });
  return {
    TrainingJobName: tgName(run),
    RoleArn: 'arn:aws:iam::000000000000:role/private-jobs',
    AlgorithmSpecification: {
      TrainingImage: 'local/rewardds-jobs',
      TrainingInputMode: 'File',
      ContainerEntrypoint: ['python', '-m', 'rewardds_jobs'],
      ContainerArguments: ['noisy-train'],
    },
    HyperParameters: { stage: 'noisy-train' },
    InputDataConfig: [
      channel('train', `s3://${PRIV}/runs/${run}/input/train.jsonl`),
      channel('config', `s3://${PRIV}/runs/${run}/config/${tgName(run)}/`),
    ],
    OutputDataConfig: {
      S3OutputPath: `s3://${PRIV}/runs/${run}/generator/`,
      KmsKeyId: KEY_ARN,
      CompressionType: 'NONE',
    },
    ResourceConfig: { InstanceType: 'ml.g5.2xlarge', InstanceCount: 1, VolumeSizeInGB: 50 },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
    Tags: [{ Key: 'rewardds:run', Value: run }],
  };
}

function processingRequest(run: string, outputBucket = SYNTH): CreateProcessingJobRequest {
  return {
    ProcessingJobName: scName(run),
    RoleArn: 'arn:aws:iam::000000000000:role/synthesis-jobs',
    AppSpecification: { ImageUri: 'local/rewardds-jobs', ContainerArguments: ['rewardds_jobs', 'noisy-generate'] },
    ProcessingInputs: [
      {
        InputName: 'queries',
        S3Input: {
          S3Uri: `s3://${SYNTH}/runs/${run}/queries/`,
          LocalPath: '/opt/ml/processing/input/queries',
          S3DataType: 'S3Prefix',
          S3InputMode: 'File',
        },
      },
    ],
    ProcessingOutputConfig: {
      Outputs: [
        {
          OutputName: 'candidates',
          S3Output: {
            S3Uri: `s3://${outputBucket}/runs/${run}/candidates/round-0/`,
            LocalPath: '/opt/ml/processing/output/candidates',
            S3UploadMode: 'EndOfJob',
          },
        },
      ],
    },
    ProcessingResources: { ClusterConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 } },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
    Tags: [{ Key: 'rewardds:run', Value: run }],
  };
}

function backend(options: { jobCache?: string; failStages?: string[]; jobsDir?: string } = {}) {
  const events: LocalJobEvent[] = [];
  const sm = new LocalSageMaker({
    s3,
    workdir: join(work, 'wd'),
    jobsDir: options.jobsDir ?? join(work, 'pkg'),
    failStages: options.failStages ?? [],
    onJobEvent: (e) => events.push(e),
    ...(options.jobCache ? { jobCache: options.jobCache } : {}),
  });
  return { sm, events };
}

async function train(sm: LocalSageMaker, run: string) {
  await sm.send(new CreateTrainingJobCommand(trainingRequest(run)));
  for (;;) {
    const d = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: tgName(run) }));
    if (d.TrainingJobStatus !== 'InProgress') return d;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function generate(sm: LocalSageMaker, run: string, outputBucket = SYNTH) {
  await sm.send(new CreateProcessingJobCommand(processingRequest(run, outputBucket)));
  for (;;) {
    const d = await sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: scName(run) }));
    if (d.ProcessingJobStatus !== 'InProgress') return d;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What a training job of `run` uploaded: model and output data. */
const trained = (run: string) => objects(PRIV, `runs/${run}/generator/${tgName(run)}/output/`);

beforeAll(async () => {
  server = await startS3Server();
  s3 = s3ClientFor(server);
  KEY_ARN = await createKmsKey(server);
  work = mkdtempSync(join(tmpdir(), 'rewardds-jobcache-sm-'));
  mkdirSync(join(work, 'pkg', 'rewardds_jobs'), { recursive: true });
  writeFileSync(join(work, 'pkg', 'rewardds_jobs', '__init__.py'), '');
  writeFileSync(join(work, 'pkg', 'rewardds_jobs', '__main__.py'), FAKE_MAIN);
  await s3.send(new CreateBucketCommand({ Bucket: PRIV }));
  await s3.send(new CreateBucketCommand({ Bucket: SYNTH }));
  for (const run of ['off-1', 'off-2', 'r1', 'r2', 'r4', 'r5', 'r6', 'r7']) await seedRun(run);
  await seedRun('r3', '{"id":"a"}\n{"id":"B"}\n');
  await seedRun('r8', undefined, '{"seed":2,"epochs":1}');
});

afterAll(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the local job cache', () => {
  it('is off by default: an identical job runs again and gets fresh bytes', async () => {
    const { sm, events } = backend();
    expect((await train(sm, 'off-1')).TrainingJobStatus).toBe('Completed');
    expect((await train(sm, 'off-2')).TrainingJobStatus).toBe('Completed');
    await sm.shutdown();
    expect(events.filter((e) => e.reusedFrom)).toEqual([]);
    expect(sm.list().every((j) => j.reusedFrom === undefined)).toBe(true);
    const [one, two] = [await trained('off-1'), await trained('off-2')];
    expect(Object.keys(two).sort()).toEqual(Object.keys(one).sort());
    expect(two['model/metrics.json']).not.toBe(one['model/metrics.json']);
  });

  describe('when on', () => {
    const cacheDir = () => join(work, 'cache');
    let first: Record<string, string>;

    beforeAll(async () => {
      const { sm } = backend({ jobCache: cacheDir() });
      expect((await train(sm, 'r1')).TrainingJobStatus).toBe('Completed');
      expect((await generate(sm, 'r1')).ProcessingJobStatus).toBe('Completed');
      await sm.shutdown();
      first = await trained('r1');
    });

    it('completes a job of another run with the same request and input bytes from the first one’s outputs', async () => {
      const { sm, events } = backend({ jobCache: cacheDir() });
      const described = await train(sm, 'r2');
      await sm.shutdown();
      expect(described.TrainingJobStatus).toBe('Completed');
      expect(described.ModelArtifacts.S3ModelArtifacts).toBe(
        `s3://${PRIV}/runs/r2/generator/${tgName('r2')}/output/model/`,
      );
      const [job] = sm.list();
      expect(job!.reusedFrom).toMatch(/^[0-9a-f]{64}$/);
      expect(existsSync(join(cacheDir(), job!.reusedFrom!, 'manifest.json'))).toBe(true);
      const completed = events.find((e) => e.status === 'Completed')!;
      expect(events.map((e) => e.status)).toEqual(['Completed']);
      expect(jobLine(completed)).toBe(
        `    job ${tgName('r2')} (noisy-train) completed: reused from cache ${job!.reusedFrom}`,
      );
      // The model, its metrics and the output data: the first run's bytes, at this run's locations.
      expect(await trained('r2')).toEqual(first);
      expect(Object.keys(first).sort()).toEqual(['data/metrics.json', 'model/metrics.json', 'model/sub/weights.bin']);
      expect(readFileSync(job!.logPath, 'utf8')).toMatch(
        new RegExp(
          `^reused from cache ${job!.reusedFrom}: the outputs of job ${tgName('r1')} .*\\ntrained with nonce `,
        ),
      );
    });

    it('reuses a processing job’s outputs too, uploaded to this run’s output location', async () => {
      const { sm } = backend({ jobCache: cacheDir() });
      expect((await generate(sm, 'r4')).ProcessingJobStatus).toBe('Completed');
      await sm.shutdown();
      expect(sm.list()[0]!.reusedFrom).toBeDefined();
      expect(await objects(SYNTH, 'runs/r4/candidates/round-0/')).toEqual(
        await objects(SYNTH, 'runs/r1/candidates/round-0/'),
      );
    });

    it('misses when one input object’s content differs under the same key', async () => {
      const { sm } = backend({ jobCache: cacheDir() });
      await train(sm, 'r3');
      await sm.shutdown();
      expect(sm.list()[0]!.reusedFrom).toBeUndefined();
      expect((await trained('r3'))['model/metrics.json']).not.toBe(first['model/metrics.json']);
    });

    it('misses when the job config differs (another seed)', async () => {
      const { sm } = backend({ jobCache: cacheDir() });
      await train(sm, 'r8');
      await sm.shutdown();
      expect(sm.list()[0]!.reusedFrom).toBeUndefined();
    });

    it('misses when the output would go elsewhere (another bucket)', async () => {
      const { sm } = backend({ jobCache: cacheDir() });
      expect((await generate(sm, 'r5', PRIV)).ProcessingJobStatus).toBe('Completed');
      await sm.shutdown();
      expect(sm.list()[0]!.reusedFrom).toBeUndefined();
    });

    it('misses when the job code changed', async () => {
      const pkg = join(work, 'pkg-edited');
      mkdirSync(join(pkg, 'rewardds_jobs'), { recursive: true });
      writeFileSync(join(pkg, 'rewardds_jobs', '__init__.py'), '');
      writeFileSync(join(pkg, 'rewardds_jobs', '__main__.py'), `${FAKE_MAIN}\n# edited\n`);
      const { sm } = backend({ jobCache: cacheDir(), jobsDir: pkg });
      await train(sm, 'r6');
      await sm.shutdown();
      expect(sm.list()[0]!.reusedFrom).toBeUndefined();
    });

    it('never serves a stage that is failed on purpose', async () => {
      const { sm } = backend({ jobCache: cacheDir(), failStages: ['noisy-train'] });
      expect((await train(sm, 'r7')).TrainingJobStatus).toBe('Failed');
      await sm.shutdown();
      expect(sm.list()[0]!.reusedFrom).toBeUndefined();
    });
  });
});

describe('a job cache entry', () => {
  const output = (root: string) => {
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'sub', 'w.bin'), 'weights');
    return root;
  };
  const KEY = 'a'.repeat(64);

  it('is served only to the locations it was written to, whole and unchanged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rewardds-jobcache-entry-'));
    try {
      const cache = new JobCache(join(dir, 'cache'));
      const log = join(dir, 'job.log');
      writeFileSync(log, 'the log\n');
      const at = { name: 'model', location: 's3://private/runs/<run>/generator/x/output/model/' };
      cache.store(KEY, { stage: 's', name: 'job-1', logPath: log }, [{ ...at, local: output(join(dir, 'out')) }]);
      expect(readdirSync(join(dir, 'cache'))).toEqual([KEY]);
      expect(cache.lookup(KEY, [at])).toMatchObject({ key: KEY, sourceJob: 'job-1' });
      // The same name to another location (a synthesis-zone prefix): a miss.
      expect(cache.lookup(KEY, [{ ...at, location: 's3://synthesis/runs/<run>/release/generator/' }])).toBeUndefined();
      expect(cache.lookup(KEY, [at, { name: 'data', location: 's3://private/x/' }])).toBeUndefined();
      expect(cache.lookup('b'.repeat(64), [at])).toBeUndefined();
      // A stored file that changed since: a miss, never a wrong hit.
      appendFileSync(join(dir, 'cache', KEY, 'outputs', 'model', 'sub', 'w.bin'), '!');
      expect(cache.lookup(KEY, [at])).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

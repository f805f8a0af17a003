/**
 * A local SageMaker: answers the same Create/Describe/Stop Training/Processing Job
 * commands the job Lambdas send, and runs each job as `python -m rewardds_jobs <stage>`
 * on this machine's CPU. It lays the job's directories out as SageMaker does (moved under
 * `<workdir>/jobs/<jobName>/` with the SM_* overrides of docs/job-contract.md), downloads
 * the inputs from (moto) S3, and on success uploads the outputs where SageMaker would put
 * them, so the Lambdas cannot tell the difference. Only the job launcher is swapped;
 * the request is the real one built by the request builder.
 */
import {
  CreateProcessingJobCommand,
  CreateTrainingJobCommand,
  DescribeProcessingJobCommand,
  DescribeTrainingJobCommand,
  StopProcessingJobCommand,
  StopTrainingJobCommand,
  type CreateProcessingJobRequest,
  type CreateTrainingJobRequest,
} from '@aws-sdk/client-sagemaker';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseS3Uri } from '../core/contract/index.js';
import { listKeys } from '../functions/shared/s3-objects.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Test-only: a comma-separated list of stages the backend fails instead of running. */
export const FAIL_STAGE_ENV = 'REWARDDS_LOCAL_FAIL_STAGE';

export type JobKind = 'training' | 'processing';
export type JobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

export interface LocalJobEvent {
  jobName: string;
  kind: JobKind;
  stage: string;
  status: JobStatus;
  logPath: string;
  failureReason?: string;
  seconds?: number;
}

export interface LocalSageMakerOptions {
  /** S3 client aimed at the local server (inputs are downloaded, outputs uploaded with it). */
  s3: S3Client;
  /** Jobs run under `<workdir>/jobs/<jobName>/`. */
  workdir: string;
  /** Python with the jobs' requirements (default: REWARDDS_PYTHON, else the repo's .venv, else python3). */
  python?: string;
  /** Folder put on PYTHONPATH so `python -m rewardds_jobs` resolves (default: the repo's jobs/). */
  jobsDir?: string;
  /** Extra environment for every job process (e.g. thread limits). */
  env?: Record<string, string>;
  /** Stages to fail on purpose (tests of the failure path); default from REWARDDS_LOCAL_FAIL_STAGE. */
  failStages?: string[];
  /** Called when a job starts running and when it ends. */
  onJobEvent?: (event: LocalJobEvent) => void;
  /** Delete each job's downloaded inputs once it ends (outputs and log are kept). */
  cleanInputs?: boolean;
}

interface LocalJob {
  name: string;
  arn: string;
  kind: JobKind;
  stage: string;
  request: CreateTrainingJobRequest | CreateProcessingJobRequest;
  dir: string;
  logPath: string;
  status: JobStatus;
  secondaryStatus: string;
  failureReason?: string;
  createdAt: Date;
  startedAt?: Date;
  endedAt?: Date;
  child?: ChildProcess;
  stopReason?: string;
  done: Promise<void>;
}

/** The error shape the AWS SDK throws for a service exception, so handlers can match on `name`. */
export class SageMakerLocalError extends Error {
  readonly $fault = 'client' as const;
  readonly $metadata = { httpStatusCode: 400 };
  constructor(name: 'ValidationException' | 'ResourceInUse' | 'ResourceNotFound', message: string) {
    super(message);
    this.name = name;
  }
}

type AnyCommand = { input: unknown; constructor: { name: string } };

export class LocalSageMaker {
  private readonly jobs = new Map<string, LocalJob>();
  private readonly python: string;
  private readonly jobsDir: string;
  private readonly failStages: Set<string>;

  constructor(private readonly options: LocalSageMakerOptions) {
    this.python = options.python ?? defaultPython();
    this.jobsDir = options.jobsDir ?? join(REPO_ROOT, 'jobs');
    this.failStages = new Set(
      options.failStages ??
        (process.env[FAIL_STAGE_ENV] ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
    );
  }

  /** The `send` of `SageMakerClient`, for the six commands the job Lambdas use. */
  async send(command: AnyCommand): Promise<any> {
    if (command instanceof CreateTrainingJobCommand) return this.createTraining(command.input);
    if (command instanceof CreateProcessingJobCommand) return this.createProcessing(command.input);
    if (command instanceof DescribeTrainingJobCommand) return this.describeTraining(command.input.TrainingJobName!);
    if (command instanceof DescribeProcessingJobCommand)
      return this.describeProcessing(command.input.ProcessingJobName!);
    if (command instanceof StopTrainingJobCommand) return this.stop(command.input.TrainingJobName!, 'training');
    if (command instanceof StopProcessingJobCommand) return this.stop(command.input.ProcessingJobName!, 'processing');
    throw new Error(`local SageMaker does not implement ${command.constructor.name}`);
  }

  /** Stops failing stages on purpose (a resumed run, after the fault is "fixed"). */
  clearFailStages(): void {
    this.failStages.clear();
  }

  /** Where a job's log is written (it exists once the job starts). */
  logPath(jobName: string): string {
    return this.jobs.get(jobName)?.logPath ?? join(this.options.workdir, 'jobs', jobName, 'job.log');
  }

  /** Every job this backend has been asked to run, in creation order. */
  list(): { name: string; kind: JobKind; stage: string; status: JobStatus; seconds?: number; logPath: string }[] {
    return [...this.jobs.values()].map((job) => ({
      name: job.name,
      kind: job.kind,
      stage: job.stage,
      status: job.status,
      seconds: job.startedAt && job.endedAt ? (job.endedAt.getTime() - job.startedAt.getTime()) / 1000 : undefined,
      logPath: job.logPath,
    }));
  }

  /** Stops whatever still runs and waits for every job to settle (end of a run, end of a test). */
  async shutdown(): Promise<void> {
    for (const job of this.jobs.values()) {
      if (job.status === 'InProgress') this.kill(job, 'Stopped by the local runner at shutdown');
    }
    await Promise.all([...this.jobs.values()].map((job) => job.done));
  }

  // ---- commands ------------------------------------------------------------------------

  private createTraining(request: CreateTrainingJobRequest) {
    const stage = stageOf(
      request.HyperParameters,
      request.AlgorithmSpecification?.ContainerArguments,
      request.Environment,
    );
    const job = this.register(request.TrainingJobName, 'training', stage, request);
    return { TrainingJobArn: job.arn };
  }

  private createProcessing(request: CreateProcessingJobRequest) {
    const stage = stageOf(undefined, request.AppSpecification?.ContainerArguments, request.Environment);
    const job = this.register(request.ProcessingJobName, 'processing', stage, request);
    return { ProcessingJobArn: job.arn };
  }

  private register(name: string | undefined, kind: JobKind, stage: string, request: LocalJob['request']): LocalJob {
    if (!name || !/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(name)) {
      throw new SageMakerLocalError(
        'ValidationException',
        `job name '${name}' must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`,
      );
    }
    if (this.jobs.has(name)) {
      throw new SageMakerLocalError(
        'ResourceInUse',
        `Job name must be unique within an AWS account and region, and a job with this name already exists (${name})`,
      );
    }
    const dir = join(this.options.workdir, 'jobs', name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const job: LocalJob = {
      name,
      arn: `arn:aws:sagemaker:us-east-1:000000000000:${kind === 'training' ? 'training-job' : 'processing-job'}/${name.toLowerCase()}`,
      kind,
      stage,
      request,
      dir,
      logPath: join(dir, 'job.log'),
      status: 'InProgress',
      secondaryStatus: 'Starting',
      createdAt: new Date(),
      done: Promise.resolve(),
    };
    this.jobs.set(name, job);
    job.done = this.execute(job).catch((error: unknown) => {
      // A backend fault (S3 unreachable, disk full) is the platform's, as on SageMaker.
      this.finish(job, 'Failed', `InternalServerError: ${(error as Error).message}`);
    });
    return job;
  }

  private describeTraining(name: string) {
    const job = this.find(name, 'training');
    const request = job.request as CreateTrainingJobRequest;
    const seconds = billableSeconds(job);
    return {
      ...request,
      TrainingJobName: job.name,
      TrainingJobArn: job.arn,
      TrainingJobStatus: job.status,
      SecondaryStatus: job.secondaryStatus,
      FailureReason: job.failureReason,
      ModelArtifacts: { S3ModelArtifacts: modelArtifactsUri(request) },
      CreationTime: job.createdAt,
      TrainingStartTime: job.startedAt,
      TrainingEndTime: job.endedAt,
      LastModifiedTime: job.endedAt ?? job.startedAt ?? job.createdAt,
      TrainingTimeInSeconds: seconds,
      BillableTimeInSeconds: seconds,
    };
  }

  private describeProcessing(name: string) {
    const job = this.find(name, 'processing');
    return {
      ...(job.request as CreateProcessingJobRequest),
      ProcessingJobName: job.name,
      ProcessingJobArn: job.arn,
      ProcessingJobStatus: job.status,
      FailureReason: job.failureReason,
      ExitMessage: job.failureReason,
      CreationTime: job.createdAt,
      ProcessingStartTime: job.startedAt,
      ProcessingEndTime: job.endedAt,
      LastModifiedTime: job.endedAt ?? job.startedAt ?? job.createdAt,
    };
  }

  private stop(name: string, kind: JobKind) {
    const job = this.find(name, kind);
    if (job.status !== 'InProgress') {
      throw new SageMakerLocalError('ValidationException', `The job ${name} is not in progress (status ${job.status})`);
    }
    this.kill(job, 'Stopped by StopJob request');
    return {};
  }

  private find(name: string, kind: JobKind): LocalJob {
    const job = this.jobs.get(name);
    if (!job || job.kind !== kind) {
      throw new SageMakerLocalError('ValidationException', `Requested resource not found: ${kind} job ${name}`);
    }
    return job;
  }

  // ---- running a job -------------------------------------------------------------------

  private async execute(job: LocalJob): Promise<void> {
    const layout = jobLayout(job.dir);
    const env: Record<string, string> = {
      ...baseEnv(),
      ...this.options.env,
      ...(job.request.Environment ?? {}),
      PYTHONPATH: this.jobsDir,
      SM_INPUT_DIR: layout.input,
      SM_MODEL_DIR: layout.model,
      SM_OUTPUT_DIR: layout.output,
      SM_OUTPUT_DATA_DIR: layout.outputData,
      SM_PROCESSING_DIR: layout.processing,
    };
    job.secondaryStatus = 'Downloading';
    const outputs = await this.downloadInputs(job, layout, env);
    if (job.stopReason) return this.finish(job, 'Stopped', job.stopReason);
    if (job.status !== 'InProgress') return;

    const maxRuntime = job.request.StoppingCondition?.MaxRuntimeInSeconds;
    const argv = this.failStages.has(job.stage)
      ? ['-c', INJECTED_FAILURE, job.stage]
      : ['-m', 'rewardds_jobs', job.stage];
    job.secondaryStatus = job.kind === 'training' ? 'Training' : 'InProgress';
    job.startedAt = new Date();
    this.emit(job);
    const exit = await this.runProcess(job, argv, env, maxRuntime);
    if (job.stopReason) return this.finish(job, 'Stopped', job.stopReason);
    if (exit !== 0) {
      this.finish(
        job,
        'Failed',
        readFailureFile(layout.output) ?? `AlgorithmError: the job exited with code ${exit}; see its log`,
      );
      return;
    }
    job.secondaryStatus = 'Uploading';
    await this.uploadOutputs(job, layout, outputs);
    this.finish(job, 'Completed');
  }

  private async downloadInputs(job: LocalJob, layout: JobLayout, env: Record<string, string>) {
    if (job.kind === 'training') {
      const request = job.request as CreateTrainingJobRequest;
      // SageMaker writes the hyperparameters map as this file; the job reads `stage` from it.
      writeJsonFile(join(layout.input, 'config', 'hyperparameters.json'), request.HyperParameters ?? {});
      for (const channel of request.InputDataConfig ?? []) {
        const uri = channel.DataSource?.S3DataSource?.S3Uri;
        if (!channel.ChannelName || !uri) throw new Error(`channel ${channel.ChannelName ?? '?'} has no S3 source`);
        const target = join(layout.input, 'data', channel.ChannelName);
        if (!(await this.downloadPrefix(uri, target))) return this.noObjects(job, uri);
        env[`SM_CHANNEL_${channel.ChannelName.toUpperCase().replace(/-/g, '_')}`] = target;
      }
      return [] as { local: string; uri: string }[];
    }
    const request = job.request as CreateProcessingJobRequest;
    for (const input of request.ProcessingInputs ?? []) {
      const uri = input.S3Input?.S3Uri;
      const localPath = input.S3Input?.LocalPath;
      if (!uri || !localPath) throw new Error(`processing input ${input.InputName ?? '?'} has no S3Input`);
      if (!(await this.downloadPrefix(uri, mapContainerPath(localPath, layout)))) return this.noObjects(job, uri);
    }
    return (request.ProcessingOutputConfig?.Outputs ?? []).map((output) => {
      const local = mapContainerPath(output.S3Output!.LocalPath!, layout);
      mkdirSync(local, { recursive: true });
      return { local, uri: output.S3Output!.S3Uri! };
    });
  }

  private noObjects(job: LocalJob, uri: string): { local: string; uri: string }[] {
    this.finish(job, 'Failed', `ClientError: No S3 objects found under S3 URL "${uri}" given in input data source`);
    return [];
  }

  /** S3Prefix semantics: every object under the prefix, laid out relative to the prefix's folder. */
  private async downloadPrefix(uri: string, target: string): Promise<boolean> {
    const { bucket, key: prefix } = parseS3Uri(uri);
    let count = 0;
    mkdirSync(target, { recursive: true });
    for await (const object of listKeys(this.options.s3, bucket, prefix)) {
      if (object.key.endsWith('/')) continue;
      const file = join(target, channelRelativePath(prefix, object.key));
      if (!resolve(file).startsWith(resolve(target) + sep))
        throw new Error(`object key escapes the channel folder: ${object.key}`);
      mkdirSync(dirname(file), { recursive: true });
      const out = await this.options.s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.key }));
      await pipeline(out.Body as Readable, createWriteStream(file));
      count += 1;
    }
    return count > 0;
  }

  private async uploadOutputs(job: LocalJob, layout: JobLayout, outputs: { local: string; uri: string }[]) {
    if (job.kind === 'training') {
      const request = job.request as CreateTrainingJobRequest;
      const kmsKeyId = request.OutputDataConfig?.KmsKeyId;
      await this.uploadFolder(layout.model, modelArtifactsUri(request), kmsKeyId);
      const dataUri = modelArtifactsUri(request).replace(/model\/$/, 'data/');
      if (existsSync(layout.outputData)) await this.uploadFolder(layout.outputData, dataUri, kmsKeyId);
      return;
    }
    const kmsKeyId = (job.request as CreateProcessingJobRequest).ProcessingOutputConfig?.KmsKeyId;
    for (const output of outputs) await this.uploadFolder(output.local, output.uri, kmsKeyId);
  }

  private async uploadFolder(folder: string, uri: string, kmsKeyId?: string) {
    const { bucket, key } = parseS3Uri(uri);
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    for (const file of walkFiles(folder)) {
      await this.options.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: prefix + relative(folder, file).split(sep).join('/'),
          Body: readFileSync(file),
          ...(kmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: kmsKeyId } : {}),
        }),
      );
    }
  }

  private runProcess(job: LocalJob, argv: string[], env: Record<string, string>, maxRuntime?: number): Promise<number> {
    const log = openSync(job.logPath, 'a');
    return new Promise<number>((resolvePromise) => {
      const child = spawn(this.python, argv, { cwd: job.dir, env, stdio: ['ignore', log, log], detached: true });
      job.child = child;
      const timer =
        maxRuntime !== undefined
          ? setTimeout(
              () =>
                this.kill(
                  job,
                  `MaxRuntimeExceeded: the job ran past StoppingCondition.MaxRuntimeInSeconds (${maxRuntime} s)`,
                ),
              maxRuntime * 1000,
            )
          : undefined;
      const settle = (code: number) => {
        if (timer) clearTimeout(timer);
        closeSync(log);
        job.child = undefined;
        resolvePromise(code);
      };
      child.once('error', (error) => {
        writeFileSync(job.logPath, `could not start ${this.python}: ${error.message}\n`, { flag: 'a' });
        settle(127);
      });
      child.once('exit', (code, signal) => settle(code ?? (signal ? 128 : 1)));
    });
  }

  /** Stops a job: its whole process group when it runs, so a job's own workers go too. */
  private kill(job: LocalJob, reason: string) {
    if (job.stopReason) return;
    job.stopReason = reason;
    job.status = 'Stopping';
    const child = job.child;
    if (!child?.pid) return; // still downloading: execute() stops before it starts the process
    signalGroup(child, 'SIGTERM');
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) signalGroup(child, 'SIGKILL');
    }, 5000).unref();
  }

  private finish(job: LocalJob, status: 'Completed' | 'Failed' | 'Stopped', reason?: string) {
    if (job.status !== 'InProgress' && job.status !== 'Stopping') return;
    job.status = status;
    job.secondaryStatus = reason?.startsWith('MaxRuntimeExceeded') ? 'MaxRuntimeExceeded' : status;
    job.failureReason = reason;
    job.endedAt = new Date();
    job.startedAt ??= job.endedAt;
    if (this.options.cleanInputs) {
      rmSync(join(job.dir, 'input', 'data'), { recursive: true, force: true });
      rmSync(join(job.dir, 'processing', 'input'), { recursive: true, force: true });
    }
    this.emit(job);
  }

  private emit(job: LocalJob) {
    this.options.onJobEvent?.({
      jobName: job.name,
      kind: job.kind,
      stage: job.stage,
      status: job.status,
      logPath: job.logPath,
      failureReason: job.failureReason,
      seconds: job.endedAt && job.startedAt ? (job.endedAt.getTime() - job.startedAt.getTime()) / 1000 : undefined,
    });
  }
}

// ---- pure helpers ----------------------------------------------------------------------

/** Stand-in body for an injected failure: fails through the same failure file a real job writes. */
const INJECTED_FAILURE = [
  'import os, pathlib, sys',
  'p = pathlib.Path(os.environ["SM_OUTPUT_DIR"]) / "failure"',
  'p.parent.mkdir(parents=True, exist_ok=True)',
  `p.write_text("injected failure: ${FAIL_STAGE_ENV} names stage " + sys.argv[1] + "\\n")`,
  'sys.exit(1)',
].join('\n');

export interface JobLayout {
  root: string;
  input: string;
  model: string;
  output: string;
  outputData: string;
  processing: string;
}

/** /opt/ml/… of one job, moved under its folder. */
export function jobLayout(dir: string): JobLayout {
  return {
    root: dir,
    input: join(dir, 'input'),
    model: join(dir, 'model'),
    output: join(dir, 'output'),
    outputData: join(dir, 'output', 'data'),
    processing: join(dir, 'processing'),
  };
}

/** A container path of the request (`/opt/ml/processing/input/x`) → its place in the job folder. */
export function mapContainerPath(containerPath: string, layout: JobLayout): string {
  const normalized = containerPath.replace(/\/+$/, '');
  if (normalized === '/opt/ml' || normalized.startsWith('/opt/ml/'))
    return join(layout.root, normalized.slice('/opt/ml'.length));
  return join(layout.root, 'fs', normalized);
}

/**
 * Which rewardds_jobs stage a request runs: `HyperParameters.stage` (training), the
 * argument after `rewardds_jobs` in the container arguments, or REWARDDS_STAGE.
 */
export function stageOf(
  hyperParameters: Record<string, string> | undefined,
  containerArguments: string[] | undefined,
  environment: Record<string, string> | undefined,
): string {
  const fromHp = hyperParameters?.stage?.trim().replace(/^"|"$/g, '');
  if (fromHp) return fromHp;
  if (containerArguments?.length) {
    const at = containerArguments.indexOf('rewardds_jobs');
    const stage = at >= 0 ? containerArguments[at + 1] : containerArguments[containerArguments.length - 1];
    if (stage) return stage;
  }
  if (environment?.REWARDDS_STAGE) return environment.REWARDDS_STAGE;
  throw new SageMakerLocalError(
    'ValidationException',
    'the request names no rewardds_jobs stage (HyperParameters.stage or ContainerArguments)',
  );
}

/**
 * Where an object of an S3Prefix input lands inside the channel folder: below the prefix
 * when the prefix names a folder (with or without its trailing slash), else below the
 * prefix's parent, so `…/input/train.jsonl` arrives as `train.jsonl`.
 */
export function channelRelativePath(prefix: string, key: string): string {
  if (prefix !== '' && !prefix.endsWith('/') && key.startsWith(`${prefix}/`)) return key.slice(prefix.length + 1);
  return key.slice(prefix.lastIndexOf('/') + 1);
}

/** Where SageMaker puts an uncompressed model: `<S3OutputPath>/<JobName>/output/model/`. */
export function modelArtifactsUri(request: CreateTrainingJobRequest): string {
  const base = (request.OutputDataConfig?.S3OutputPath ?? '').replace(/\/+$/, '');
  return `${base}/${request.TrainingJobName}/output/model/`;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal);
  }
}

function billableSeconds(job: LocalJob): number | undefined {
  if (!job.startedAt || !job.endedAt) return undefined;
  return Math.max(1, Math.ceil((job.endedAt.getTime() - job.startedAt.getTime()) / 1000));
}

function readFailureFile(outputDir: string): string | undefined {
  const path = join(outputDir, 'failure');
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8').split('\n')[0]?.trim();
  return text ? text.slice(0, 1024) : undefined;
}

function* walkFiles(folder: string): Generator<string> {
  if (!existsSync(folder)) return;
  for (const entry of readdirSync(folder).sort()) {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) yield* walkFiles(path);
    else yield path;
  }
}

function writeJsonFile(path: string, value: unknown) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value));
}

/**
 * A job sees what a SageMaker container would: no AWS credentials (a job never talks to
 * S3) and no hub access (models are built offline).
 */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'];
  const env: Record<string, string> = {};
  for (const name of keep) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  return {
    ...env,
    HF_HUB_OFFLINE: '1',
    TRANSFORMERS_OFFLINE: '1',
    HF_DATASETS_OFFLINE: '1',
    PYTHONUNBUFFERED: '1',
    TOKENIZERS_PARALLELISM: 'false',
  };
}

export function defaultPython(repoRoot = REPO_ROOT): string {
  if (process.env.REWARDDS_PYTHON) return process.env.REWARDDS_PYTHON;
  const venv = join(repoRoot, '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

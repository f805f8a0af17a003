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
import type { S3Client } from '@aws-sdk/client-s3';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { jobLayout, layoutEnv, readFailureFile } from './layout.js';
import { modelArtifactsUri, SageMakerLocalError, stageOf, type JobRequest } from './requests.js';
import { JobCache, jobCodeVersion, jobRuntime, treeFiles, type CacheHit } from './job-cache.js';
import { jobCacheMaterial, keyOf, runNameRemover, runOf, treeDigest } from './job-cache-key.js';
import { outputLocations, stageInputs, uploadOutputs, type StagedOutput } from './staging.js';
import {
  baseEnv,
  DEFAULT_JOBS_DIR,
  defaultPython,
  exitReason,
  FAIL_STAGE_ENV,
  jobArgv,
  type JobExit,
} from './supervisor.js';
import { coldLauncher, type JobLauncher, type LaunchedJob, type LaunchMode } from './warm.js';

/** The variable that tells a job where to note its body's start and end (local mode only). */
const TIMING_FILE_ENV = 'REWARDDS_TIMING_FILE';
const TIMING_FILE = 'timing.json';

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
  /** How the job's process was started (set from the event that says it runs). */
  mode?: LaunchMode;
  /** The job cache entry whose outputs completed this job instead of a process (jobCache). */
  reusedFrom?: string;
}

/** When a job's body (after its imports) ran, as the job noted it; epoch milliseconds. */
export interface BodyTiming {
  start: number;
  end: number;
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
  /** How job processes start (default: one plain subprocess each). The caller closes it. */
  launcher?: JobLauncher;
  /**
   * Folder of the job-result cache (off when absent): a job whose request, input content,
   * job code and runtime equal those of one that finished before gets that job's outputs
   * instead of running (job-cache-key.ts). Local mode only; the folder holds private-zone
   * outputs, so it belongs to the same trust zone as the local private bucket.
   */
  jobCache?: string;
  /**
   * For the job cache: names of this local stack's resources that differ each time it is
   * set up (moto's KMS key ARNs and ids) → their logical ids, so two runs' requests compare.
   */
  stackNames?: Record<string, string>;
  /**
   * Milliseconds a Describe of a running job may wait for the job to end before it answers
   * (default 0: at once, as SageMaker answers). Local runs set it so the state machine's poll
   * learns of a job's end when it happens rather than one Wait later; the answer is the same
   * one a later Describe would give.
   */
  describeWaitMs?: number;
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
  process?: LaunchedJob;
  mode?: LaunchMode;
  body?: BodyTiming;
  stopReason?: string;
  reusedFrom?: string;
  done: Promise<void>;
}

interface CacheKey {
  key: string;
  material: Record<string, unknown>;
}

type AnyCommand = { input: unknown; constructor: { name: string } };

export class LocalSageMaker {
  private readonly jobs = new Map<string, LocalJob>();
  private readonly python: string;
  private readonly jobsDir: string;
  private readonly failStages: Set<string>;
  private readonly launcher: JobLauncher;
  private readonly cache?: JobCache;
  private codeVersion?: string;

  constructor(private readonly options: LocalSageMakerOptions) {
    this.launcher = options.launcher ?? coldLauncher();
    this.cache = options.jobCache ? new JobCache(options.jobCache) : undefined;
    this.python = options.python ?? defaultPython();
    this.jobsDir = options.jobsDir ?? DEFAULT_JOBS_DIR;
    this.failStages = new Set(
      options.failStages ??
        (process.env[FAIL_STAGE_ENV] ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
    );
  }

  /** The `send` of `SageMakerClient`, for the six commands the job Lambdas use. */
  // biome-ignore lint/suspicious/noExplicitAny: SageMakerClient.send's result type depends on the command; `any` lets this stand in for the client
  async send(command: AnyCommand): Promise<any> {
    if (command instanceof CreateTrainingJobCommand) return this.createTraining(command.input);
    if (command instanceof CreateProcessingJobCommand) return this.createProcessing(command.input);
    if (command instanceof DescribeTrainingJobCommand) {
      const name = command.input.TrainingJobName!;
      await this.settled(name, 'training');
      return this.describeTraining(name);
    }
    if (command instanceof DescribeProcessingJobCommand) {
      const name = command.input.ProcessingJobName!;
      await this.settled(name, 'processing');
      return this.describeProcessing(name);
    }
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
  list(): {
    name: string;
    kind: JobKind;
    stage: string;
    status: JobStatus;
    seconds?: number;
    logPath: string;
    body?: BodyTiming;
    reusedFrom?: string;
  }[] {
    return [...this.jobs.values()].map((job) => ({
      name: job.name,
      kind: job.kind,
      stage: job.stage,
      status: job.status,
      seconds: job.startedAt && job.endedAt ? (job.endedAt.getTime() - job.startedAt.getTime()) / 1000 : undefined,
      logPath: job.logPath,
      ...(job.body ? { body: job.body } : {}),
      ...(job.reusedFrom ? { reusedFrom: job.reusedFrom } : {}),
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

  /** Waits (at most `describeWaitMs`) for a running job to end; returns at once for an unknown or ended one. */
  private async settled(name: string, kind: JobKind): Promise<void> {
    const wait = this.options.describeWaitMs ?? 0;
    const job = this.jobs.get(name);
    if (wait <= 0 || !job || job.kind !== kind) return;
    if (job.status !== 'InProgress' && job.status !== 'Stopping') return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([job.done, new Promise<void>((r) => (timer = setTimeout(r, wait)))]);
    clearTimeout(timer);
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
    const request = { kind: job.kind, request: job.request } as JobRequest;
    job.secondaryStatus = 'Downloading';
    const staged = await stageInputs(this.options.s3, request, layout);
    if (!staged.ok) return this.finish(job, 'Failed', staged.reason);
    if (job.stopReason) return this.finish(job, 'Stopped', job.stopReason);
    if (job.status !== 'InProgress') return;

    const locations = outputLocations(request, layout, staged.outputs);
    const cacheKey = this.cacheKey(job, staged.inputs);
    const hit = cacheKey ? this.cache!.lookup(cacheKey.key, this.neutral(job, locations)) : undefined;
    if (hit) return this.complete(job, request, layout, staged.outputs, hit, locations);

    await this.launcher.ready();
    if (job.stopReason) return this.finish(job, 'Stopped', job.stopReason);

    const env: Record<string, string> = {
      ...baseEnv(),
      ...this.options.env,
      ...(job.request.Environment ?? {}),
      PYTHONPATH: this.jobsDir,
      ...layoutEnv(layout),
      ...staged.channelEnv,
      // Outside every uploaded folder: the timing stays on this machine.
      [TIMING_FILE_ENV]: join(job.dir, TIMING_FILE),
    };
    job.secondaryStatus = job.kind === 'training' ? 'Training' : 'InProgress';
    job.startedAt = new Date();
    const exit = await this.runProcess(job, env);
    job.body = readBodyTiming(join(job.dir, TIMING_FILE));
    if (job.stopReason) return this.finish(job, 'Stopped', job.stopReason);
    // Only a clean exit 0 succeeds: a process ended by a signal has no exit code at all.
    if (exit.signal !== null || exit.code !== 0) {
      this.finish(job, 'Failed', readFailureFile(layout.output) ?? exitReason(exit));
      return;
    }
    job.secondaryStatus = 'Uploading';
    await uploadOutputs(this.options.s3, request, layout, staged.outputs);
    if (cacheKey) this.remember(job, cacheKey, locations);
    this.finish(job, 'Completed');
  }

  // ---- the job cache -------------------------------------------------------------------

  /** The job's cache key and what it digests; none without a cache, for a stage failed on purpose, or for a request that names no run. */
  private cacheKey(job: LocalJob, inputs: Record<string, string>): CacheKey | undefined {
    if (!this.cache || this.failStages.has(job.stage)) return undefined;
    this.codeVersion ??= jobCodeVersion(this.jobsDir);
    const material = jobCacheMaterial({
      job: { kind: job.kind, request: job.request } as JobRequest,
      stage: job.stage,
      inputs: Object.fromEntries(Object.entries(inputs).map(([name, folder]) => [name, treeDigest(treeFiles(folder))])),
      code: this.codeVersion,
      runtime: jobRuntime(this.python, this.options.env),
      stackNames: this.options.stackNames,
    });
    return material && { key: keyOf(material), material };
  }

  /** Output locations with this run's names replaced: what an entry's locations are compared with. */
  private neutral(job: LocalJob, locations: (StagedOutput & { name: string })[]) {
    const remove = runNameRemover(runOf(job.request)!);
    return locations.map((o) => ({ name: o.name, location: remove(o.uri) }));
  }

  /** A hit: the entry's outputs into this job's folders, uploaded to this job's locations as a run would. */
  private async complete(
    job: LocalJob,
    request: JobRequest,
    layout: ReturnType<typeof jobLayout>,
    outputs: StagedOutput[],
    hit: CacheHit,
    locations: (StagedOutput & { name: string })[],
  ): Promise<void> {
    job.startedAt = new Date();
    job.reusedFrom = hit.key;
    this.cache!.restore(hit, Object.fromEntries(locations.map((o) => [o.name, o.local])), job.logPath);
    job.secondaryStatus = 'Uploading';
    await uploadOutputs(this.options.s3, request, layout, outputs);
    this.finish(job, 'Completed');
  }

  /** Stores a finished job's outputs; a cache that cannot be written costs the reuse, never the job. */
  private remember(job: LocalJob, { key, material }: CacheKey, locations: (StagedOutput & { name: string })[]) {
    const neutral = this.neutral(job, locations);
    try {
      this.cache!.store(
        key,
        { stage: job.stage, name: job.name, logPath: job.logPath, material },
        locations.map((o, i) => ({ ...neutral[i]!, local: o.local })),
      );
    } catch (error) {
      appendFileSync(job.logPath, `\n[local SageMaker] not stored in the job cache: ${(error as Error).message}\n`);
    }
  }

  private async runProcess(job: LocalJob, env: Record<string, string>): Promise<JobExit> {
    const maxRuntime = job.request.StoppingCondition?.MaxRuntimeInSeconds;
    job.process = this.launcher.start({
      python: this.python,
      argv: jobArgv(job.stage, this.failStages.has(job.stage)),
      env,
      cwd: job.dir,
      logPath: job.logPath,
    });
    job.mode = job.process.mode;
    this.emit(job);
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
    try {
      return await job.process.exited;
    } finally {
      if (timer) clearTimeout(timer);
      job.process = undefined;
    }
  }

  /** Stops a job: its whole process group when it runs, so a job's own workers go too. */
  private kill(job: LocalJob, reason: string) {
    if (job.stopReason) return;
    job.stopReason = reason;
    job.status = 'Stopping';
    // Still downloading: execute() stops before it starts the process.
    job.process?.stop();
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
      ...(job.mode ? { mode: job.mode } : {}),
      ...(job.reusedFrom ? { reusedFrom: job.reusedFrom } : {}),
    });
  }
}

/** The job's own note of when its body ran (rewardds_jobs/__main__.py), if it got that far. */
function readBodyTiming(path: string): BodyTiming | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const t = JSON.parse(readFileSync(path, 'utf8')) as { bodyStart?: unknown; bodyEnd?: unknown };
    if (typeof t.bodyStart !== 'number' || typeof t.bodyEnd !== 'number') return undefined;
    return { start: t.bodyStart * 1000, end: t.bodyEnd * 1000 };
  } catch {
    return undefined;
  }
}

function billableSeconds(job: LocalJob): number | undefined {
  if (!job.startedAt || !job.endedAt) return undefined;
  return Math.max(1, Math.ceil((job.endedAt.getTime() - job.startedAt.getTime()) / 1000));
}

/**
 * THE SageMaker request builder: one stage spec in, one CreateTrainingJob or
 * CreateProcessingJob request out, for every stage of both zones. Which zone a stage runs
 * in decides its bucket, KMS key and execution role here and nowhere else, so the privacy
 * boundary is one table (STAGES) that a test can read.
 */
import type {
  Channel,
  CreateProcessingJobCommandInput,
  CreateTrainingJobCommandInput,
  ProcessingInput,
  ProcessingInstanceType,
  TrainingInstanceType,
} from '@aws-sdk/client-sagemaker';
import { createHash } from 'node:crypto';
import {
  type JobKind,
  type Models,
  privateKeys,
  type RunState,
  s3Uri,
  type Stage,
  synthesisKeys,
  type Zone,
} from '../contract/index.js';
import { buildStageConfig } from '../config/index.js';
import { namedError } from '../contract/named-error.js';

/** What the deployment provides (the start-job Lambda's environment). */
export interface JobEnvironment {
  imageUri: string;
  roleArns: Record<Zone, string>;
  buckets: Record<Zone, string>;
  kmsKeyArns: Record<Zone, string>;
  /** Public base models used when the run config names none (S3 URIs of HF model folders). */
  baseModels: { proxy: string; target: string };
}

export interface StageSpec {
  runId: string;
  stage: Stage;
  /** The target round for train-target, score and refine; 0 elsewhere. */
  round: number;
  jobName: string;
  run: RunState;
  models: Models;
  env: JobEnvironment;
}

/** Where start-job writes the stage's config.json before starting the job. */
export interface StageConfigObject {
  bucket: string;
  key: string;
  kmsKeyArn: string;
  body: Record<string, unknown>;
}

export type JobRequest =
  | { kind: 'training'; zone: Zone; request: CreateTrainingJobCommandInput; config: StageConfigObject }
  | { kind: 'processing'; zone: Zone; request: CreateProcessingJobCommandInput; config: StageConfigObject };

type InstanceRole = 'proxyTraining' | 'targetTraining' | 'generation' | 'evaluation';

interface StageTraits {
  kind: JobKind;
  zone: Zone;
  /** Short code for job names. */
  short: string;
  instance: InstanceRole;
  /** EBS volume size for instance types without local NVMe storage. */
  volumeGb: number;
}

/** The zone of each stage is the privacy boundary: private stages may read private data, synthesis stages never. */
export const STAGE_TRAITS: Record<Stage, StageTraits> = {
  'train-generator': { kind: 'training', zone: 'private', short: 'tg', instance: 'proxyTraining', volumeGb: 100 },
  'build-pairs': { kind: 'processing', zone: 'private', short: 'bp', instance: 'generation', volumeGb: 100 },
  'train-reward': { kind: 'training', zone: 'private', short: 'tr', instance: 'proxyTraining', volumeGb: 100 },
  'synthesize-queries': { kind: 'processing', zone: 'synthesis', short: 'sq', instance: 'generation', volumeGb: 100 },
  'sample-candidates': { kind: 'processing', zone: 'synthesis', short: 'sc', instance: 'generation', volumeGb: 100 },
  score: { kind: 'processing', zone: 'synthesis', short: 'ss', instance: 'generation', volumeGb: 100 },
  'train-target': { kind: 'training', zone: 'synthesis', short: 'tt', instance: 'targetTraining', volumeGb: 300 },
  refine: { kind: 'processing', zone: 'synthesis', short: 'rf', instance: 'generation', volumeGb: 300 },
  evaluate: { kind: 'processing', zone: 'private', short: 'ev', instance: 'evaluation', volumeGb: 300 },
  'audit-canaries': { kind: 'processing', zone: 'private', short: 'ac', instance: 'generation', volumeGb: 100 },
};

export class JobRequestError extends namedError('JobRequestError') {}

/**
 * Instance families with local NVMe storage: SageMaker encrypts it in hardware and refuses
 * a VolumeKmsKeyId for them (ResourceConfig.VolumeKmsKeyId in the API reference). By rule
 * rather than by list, so a new family is covered: a `d` among the letters after the
 * generation (g4dn, p4d, p4de, r5d, m6id), and every GPU/Trainium family from g5, p5 and
 * trn1 on (g5, g6e, g7e, gr6, p5en, p6-b200, p6e-gb200, trn2).
 */
const LOCAL_STORAGE_FAMILY = /^ml\.([a-z]+\d+[a-z]*d[a-z]*|gr?[5-9][a-z]*|p[5-9][a-z]*(-[a-z0-9]+)?|trn\d+[a-z]*)\./;
export const hasLocalStorage = (instanceType: string) => LOCAL_STORAGE_FAMILY.test(instanceType);

/** SageMaker's own ceiling for a training job's MaxWaitTimeInSeconds and MaxRuntimeInSeconds (28 days). */
const MAX_SECONDS = 28 * 24 * 3600;
/** SageMaker's ceiling for a processing job's MaxRuntimeInSeconds (9 days). */
export const MAX_PROCESSING_SECONDS = 777_600;

/** A job-name prefix: lower-case words and a hash, ending in `-`, at most 18 characters. */
const JOB_NAME_PREFIX = /^[a-z0-9]+(-[a-z0-9]+)*-$/;
const JOB_NAME_PREFIX_MAX = 18;

/**
 * The prefix every job name of one stack starts with, and its IAM scope (`<prefix>*`):
 * up to 10 characters of the stack name, lower-cased, then 6 hex of its hash, so stacks
 * sharing an account (or only differing in case or after 10 characters) never reach each
 * other's jobs. Lower case because SageMaker lowercases job names in ARNs.
 */
export function jobNamePrefix(stackName: string): string {
  const slug = stackName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 10)
    .replace(/-+$/, '');
  const hash = createHash('sha256').update(stackName).digest('hex').slice(0, 6);
  return slug ? `${slug}-${hash}-` : `${hash}-`;
}

/** Attempts of one stage a run may make: a name past it is refused, so a broken stage cannot start jobs forever. */
export const MAX_JOB_ATTEMPTS = 100;

/**
 * The job name of one attempt of one stage: `<prefix><stage><round>-<8 hex of the run>-a<attempt>`.
 * The same run, stage, round and attempt always give the same name, so a start-job retried
 * after its create call succeeded finds the job it started instead of starting a second
 * one (functions/start-job). With an 18-character prefix the rest takes at most 19 characters.
 */
export function jobName(prefix: string, runId: string, stage: Stage, round: number, attempt: number): string {
  if (!JOB_NAME_PREFIX.test(prefix) || prefix.length > JOB_NAME_PREFIX_MAX)
    throw new JobRequestError(`job name prefix '${prefix}' is not one jobNamePrefix makes`);
  if (!Number.isInteger(attempt) || attempt < 0 || attempt >= MAX_JOB_ATTEMPTS)
    throw new JobRequestError(`${stage}: attempt ${attempt} is outside 0…${MAX_JOB_ATTEMPTS - 1}`);
  const roundPart = stage === 'train-target' || stage === 'refine' || stage === 'score' ? String(round) : '';
  return `${prefix}${STAGE_TRAITS[stage].short}${roundPart}-${jobNameRunPart(runId)}-a${attempt}`;
}

/** The part of every job name of a run that names the run: 8 hex of sha256(run id). */
export const jobNameRunPart = (runId: string) => createHash('sha256').update(runId).digest('hex').slice(0, 8);

/** Every stage runs `python -m rewardds_jobs <stage>` (docs/job-contract.md). */
export const CONTAINER_ENTRYPOINT = ['python', '-m', 'rewardds_jobs'] as const;

/** The environment variable that carries the hash of the job's config.json. */
export const CONFIG_HASH_VARIABLE = 'REWARDDS_CONFIG_SHA256';
export const configHash = (body: Record<string, unknown>) =>
  createHash('sha256').update(JSON.stringify(body)).digest('hex');

const need = (value: string | undefined, what: string, stage: Stage): string => {
  if (!value) throw new JobRequestError(`${stage}: ${what} is missing; its stage must finish first`);
  return value;
};

/** The S3 URIs each stage reads, by channel name; built only from layout.ts and finished models. */
function stageInputs(spec: StageSpec): Record<string, string> {
  const { runId, stage, round, run, models, env } = spec;
  const priv = (key: string) => s3Uri(env.buckets.private, key);
  const synth = (key: string) => s3Uri(env.buckets.synthesis, key);
  const proxyBase = run.config.generator.baseModel ?? env.baseModels.proxy;
  const rewardBase = run.config.reward.baseModel ?? proxyBase;
  const targetBase = run.config.target.baseModel ?? env.baseModels.target;
  // Synthesis stages read the RELEASED copies, never the private job outputs.
  const released = {
    generator: synth(synthesisKeys.releasePrefix(runId, 'generator')),
    reward: synth(synthesisKeys.releasePrefix(runId, 'reward')),
  };
  const previousTarget = () => need(models.target?.[round - 1], `models.target[${round - 1}]`, stage);

  switch (stage) {
    case 'train-generator':
      return { train: priv(privateKeys.input(runId, 'train')), base: proxyBase };
    case 'build-pairs':
      return {
        train: priv(privateKeys.input(runId, 'train')),
        base: proxyBase,
        generator: need(models.generator, 'models.generator', stage),
      };
    case 'train-reward':
      return { pairs: priv(privateKeys.pairs(runId)), base: rewardBase };
    case 'synthesize-queries':
      return {
        base: proxyBase,
        generator: released.generator,
        ...(run.hasSeeds ? { seeds: synth(synthesisKeys.seeds(runId)) } : {}),
      };
    case 'sample-candidates':
      return { base: proxyBase, generator: released.generator, queries: synth(synthesisKeys.queries(runId)) };
    case 'score':
      // One `base` channel carries both adapters, so they must share it.
      if (rewardBase !== proxyBase)
        throw new JobRequestError(
          'score: reward.baseModel must equal generator.baseModel (one base carries both adapters)',
        );
      return {
        base: proxyBase,
        generator: released.generator,
        reward: released.reward,
        candidates: synth(synthesisKeys.candidates(runId, round)),
      };
    case 'train-target':
      return {
        pool: synth(synthesisKeys.pool(runId, round)),
        target_base: targetBase,
        ...(round > 0 ? { target: previousTarget() } : {}),
      };
    case 'refine':
      return {
        base: proxyBase,
        generator: released.generator,
        target_base: targetBase,
        target: previousTarget(),
        working: synth(synthesisKeys.working(runId, round - 1)),
      };
    case 'evaluate':
      // SageMaker allows 10 ProcessingInputs; one per round would exceed it from 7 rounds on.
      // One prefix holds every round's adapter; stageEnvironment says which folder is whose.
      evaluationAdapters(spec);
      return {
        test: priv(privateKeys.input(runId, 'test')),
        target_base: targetBase,
        adapters: synth(targetRoot(runId)),
      };
    case 'audit-canaries':
      // The private G (not the released copy: the same weights, and no need to read release/);
      // the synthetic text is read inwards to scan it for secrets, as evaluate reads adapters.
      return {
        canaries: priv(privateKeys.canaries(runId)),
        base: proxyBase,
        generator: need(models.generator, 'models.generator', stage),
        queries: synth(synthesisKeys.queriesPrefix(runId)),
        candidates: synth(candidatesRoot(runId)),
      };
  }
}

/** The prefix above every round's `round-<r>/` folder of candidates. */
const candidatesRoot = (runId: string) => synthesisKeys.candidatesPrefix(runId, 0).replace(/round-0\/$/, '');

/** The prefix above every round's `round-<r>/` folder of target adapters. */
const targetRoot = (runId: string) => synthesisKeys.targetPrefix(runId, 0).replace(/round-0\/$/, '');

/**
 * Each round's adapter as a folder relative to the evaluation's `adapters` input, by
 * round: the jobs read `REWARDDS_ADAPTER_ROUND_<r>` (docs/job-contract.md).
 */
function evaluationAdapters(spec: StageSpec): Record<string, string> {
  const { runId, run, models, env, stage } = spec;
  const root = s3Uri(env.buckets.synthesis, targetRoot(runId));
  const variables: Record<string, string> = {};
  for (let r = 0; r <= run.rounds; r += 1) {
    const uri = need(models.target?.[r], `models.target[${r}]`, stage);
    if (!uri.startsWith(root)) throw new JobRequestError(`${stage}: models.target[${r}] ${uri} is not under ${root}`);
    variables[`${ADAPTER_VARIABLE_PREFIX}${r}`] = uri.slice(root.length);
  }
  return variables;
}

export const ADAPTER_VARIABLE_PREFIX = 'REWARDDS_ADAPTER_ROUND_';

/** Processing outputs by name (docs/job-contract.md), or the training job's S3OutputPath. */
function stageOutputs(spec: StageSpec): { training: string } | { processing: Record<string, string> } {
  const { runId, stage, round, env } = spec;
  const priv = (key: string) => s3Uri(env.buckets.private, key);
  const synth = (key: string) => s3Uri(env.buckets.synthesis, key);
  switch (stage) {
    case 'train-generator':
      return { training: priv(privateKeys.generatorPrefix(runId)) };
    case 'train-reward':
      return { training: priv(privateKeys.rewardPrefix(runId)) };
    case 'train-target':
      return { training: synth(synthesisKeys.targetPrefix(runId, round)) };
    case 'build-pairs':
      return { processing: { pairs: priv(privateKeys.pairsPrefix(runId)) } };
    case 'synthesize-queries':
      return { processing: { queries: synth(synthesisKeys.queriesPrefix(runId)) } };
    case 'sample-candidates':
      return { processing: { candidates: synth(synthesisKeys.candidatesPrefix(runId, 0)) } };
    case 'score':
      return { processing: { scores: synth(synthesisKeys.scoresPrefix(runId, round)) } };
    case 'refine':
      return { processing: { candidates: synth(synthesisKeys.candidatesPrefix(runId, round)) } };
    case 'evaluate':
      return { processing: { eval: priv(privateKeys.evalPrefix(runId)) } };
    case 'audit-canaries':
      return { processing: { audit: priv(privateKeys.auditPrefix(runId)) } };
  }
}

function checkSpec(spec: StageSpec): void {
  const { stage, round, run } = spec;
  const roundStage = stage === 'train-target' || stage === 'score' || stage === 'refine';
  if (!roundStage && round !== 0) throw new JobRequestError(`${stage}: has no rounds, got round ${round}`);
  if (round > run.rounds)
    throw new JobRequestError(`${stage}: round ${round} is past the run's ${run.rounds} refinement rounds`);
  if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(spec.jobName))
    throw new JobRequestError(`${stage}: job name '${spec.jobName}' is not a valid SageMaker name`);
}

/** Builds the one request that starts `spec.stage`, and the config.json it reads. */
export function buildJobRequest(spec: StageSpec): JobRequest {
  checkSpec(spec);
  const { runId, stage, round, jobName: name, run, env } = spec;
  const traits = STAGE_TRAITS[stage];
  const { zone } = traits;
  const compute = run.config.compute;
  const instanceType = compute.instanceTypes[traits.instance];
  const kmsKeyArn = env.kmsKeyArns[zone];
  const configPrefix =
    zone === 'private' ? privateKeys.jobConfigPrefix(runId, name) : synthesisKeys.jobConfigPrefix(runId, name);
  const config: StageConfigObject = {
    bucket: env.buckets[zone],
    key: `${configPrefix}config.json`,
    kmsKeyArn,
    body: buildStageConfig({ stage, round, run }),
  };
  const inputs = { ...stageInputs(spec), config: s3Uri(env.buckets[zone], configPrefix) };
  const outputs = stageOutputs(spec);
  const volumeKms = hasLocalStorage(instanceType) ? {} : { VolumeKmsKeyId: kmsKeyArn };
  // One config key serves both kinds; a processing job gets at most SageMaker's processing limit.
  const maxRuntime = Math.min(compute.maxRuntime, traits.kind === 'training' ? MAX_SECONDS : MAX_PROCESSING_SECONDS);
  // The job ignores it; start-job compares it to tell a retry of this request from a different one of the same name.
  const environment = {
    [CONFIG_HASH_VARIABLE]: configHash(config.body),
    ...(stage === 'evaluate' ? evaluationAdapters(spec) : {}),
  };
  const tags = [
    { Key: 'rewardds:run', Value: runId },
    { Key: 'rewardds:stage', Value: stage },
    { Key: 'rewardds:zone', Value: zone },
  ];

  if (traits.kind === 'training') {
    if (!('training' in outputs)) throw new JobRequestError(`${stage}: no training output`);
    if (compute.spot && compute.warmPoolSeconds > 0) {
      throw new JobRequestError(
        `${stage}: compute.spot and compute.warmPoolSeconds cannot be combined (SageMaker keeps no warm pool for spot jobs)`,
      );
    }
    const checkpointKey =
      zone === 'private'
        ? privateKeys.checkpointPrefix(runId, stageLabel(stage, round))
        : synthesisKeys.checkpointPrefix(runId, stageLabel(stage, round));
    const channels: Channel[] = Object.entries(inputs).map(([channel, uri]) => ({
      ChannelName: channel,
      InputMode: 'File',
      DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: uri, S3DataDistributionType: 'FullyReplicated' } },
    }));
    const request: CreateTrainingJobCommandInput = {
      TrainingJobName: name,
      RoleArn: env.roleArns[zone],
      AlgorithmSpecification: {
        TrainingImage: env.imageUri,
        TrainingInputMode: 'File',
        // Explicit, so the contract does not rest on the image's default ENTRYPOINT
        // (a training job given only ContainerArguments runs them against whatever it is).
        ContainerEntrypoint: [...CONTAINER_ENTRYPOINT],
        ContainerArguments: [stage],
      },
      HyperParameters: { stage },
      Environment: environment,
      InputDataConfig: channels,
      OutputDataConfig: { S3OutputPath: outputs.training, KmsKeyId: kmsKeyArn, CompressionType: 'NONE' },
      ResourceConfig: {
        InstanceType: instanceType as TrainingInstanceType,
        InstanceCount: 1,
        VolumeSizeInGB: traits.volumeGb,
        ...volumeKms,
        ...(compute.warmPoolSeconds > 0 ? { KeepAlivePeriodInSeconds: compute.warmPoolSeconds } : {}),
      },
      StoppingCondition: {
        MaxRuntimeInSeconds: maxRuntime,
        ...(compute.spot ? { MaxWaitTimeInSeconds: Math.min(2 * maxRuntime, MAX_SECONDS) } : {}),
      },
      EnableNetworkIsolation: true,
      ...(compute.spot
        ? {
            EnableManagedSpotTraining: true,
            CheckpointConfig: { S3Uri: s3Uri(env.buckets[zone], checkpointKey), LocalPath: '/opt/ml/checkpoints' },
          }
        : {}),
      Tags: tags,
    };
    return { kind: 'training', zone, request, config };
  }

  if (!('processing' in outputs)) throw new JobRequestError(`${stage}: no processing output`);
  const processingInputs: ProcessingInput[] = Object.entries(inputs).map(([name, uri]) => ({
    InputName: name,
    S3Input: {
      S3Uri: uri,
      LocalPath: `/opt/ml/processing/input/${name}`,
      S3DataType: 'S3Prefix',
      S3InputMode: 'File',
      S3DataDistributionType: 'FullyReplicated',
    },
  }));
  const request: CreateProcessingJobCommandInput = {
    ProcessingJobName: name,
    RoleArn: env.roleArns[zone],
    AppSpecification: {
      ImageUri: env.imageUri,
      ContainerEntrypoint: [...CONTAINER_ENTRYPOINT],
      ContainerArguments: [stage],
    },
    Environment: environment,
    ProcessingInputs: processingInputs,
    ProcessingOutputConfig: {
      KmsKeyId: kmsKeyArn,
      Outputs: Object.entries(outputs.processing).map(([output, uri]) => ({
        OutputName: output,
        S3Output: { S3Uri: uri, LocalPath: `/opt/ml/processing/output/${output}`, S3UploadMode: 'EndOfJob' },
      })),
    },
    ProcessingResources: {
      ClusterConfig: {
        InstanceType: instanceType as ProcessingInstanceType,
        InstanceCount: 1,
        VolumeSizeInGB: traits.volumeGb,
        ...volumeKms,
      },
    },
    StoppingCondition: { MaxRuntimeInSeconds: maxRuntime },
    NetworkConfig: { EnableNetworkIsolation: true },
    Tags: tags,
  };
  return { kind: 'processing', zone, request, config };
}

const stageLabel = (stage: Stage, round: number) => (stage === 'train-target' ? `${stage}-round-${round}` : stage);

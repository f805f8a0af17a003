import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STAGES, type Stage } from '../../../core/contract/index.js';
import {
  buildJobRequest,
  hasLocalStorage,
  configHash,
  jobName,
  MAX_JOB_ATTEMPTS,
  jobNamePrefix,
  JobRequestError,
  STAGE_TRAITS,
  type StageSpec,
} from '../../../core/sagemaker/index.js';
import {
  ENV,
  MODELS,
  PRIVATE_BUCKET,
  PRIVATE_KEY,
  RUN_ID,
  runState,
  SYNTHESIS_BUCKET,
  SYNTHESIS_KEY,
} from '../../helpers/job-fixtures.js';

const ROUND_STAGES: Stage[] = ['train-target', 'score', 'refine'];

const spec = (stage: Stage, overrides: Partial<StageSpec> = {}): StageSpec => ({
  runId: RUN_ID,
  stage,
  round: stage === 'refine' ? 1 : 0,
  jobName: `rds-test-${stage}`,
  run: runState(),
  models: MODELS,
  env: ENV,
  ...overrides,
});

const PRIVATE_STAGES = STAGES.filter((s) => STAGE_TRAITS[s].zone === 'private');
const SYNTHESIS_STAGES = STAGES.filter((s) => STAGE_TRAITS[s].zone === 'synthesis');

describe('buildJobRequest', () => {
  it('puts exactly the DP stages, pair building, evaluation and the canary audit in the private zone', () => {
    expect(PRIVATE_STAGES).toEqual(['train-generator', 'build-pairs', 'train-reward', 'evaluate', 'audit-canaries']);
  });

  it('builds the generation proxy training job field by field', () => {
    const built = buildJobRequest(
      spec('train-generator', {
        run: runState({ config: { compute: { instanceTypes: { proxyTraining: 'ml.m5.2xlarge' } } } }),
      }),
    );
    expect(built.kind).toBe('training');
    expect(built.zone).toBe('private');
    const configPrefix = `runs/${RUN_ID}/config/rds-test-train-generator/`;
    expect(built.config).toMatchObject({
      bucket: PRIVATE_BUCKET,
      key: `${configPrefix}config.json`,
      kmsKeyArn: PRIVATE_KEY,
    });
    const channel = (name: string, uri: string) => ({
      ChannelName: name,
      InputMode: 'File',
      DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: uri, S3DataDistributionType: 'FullyReplicated' } },
    });
    expect(built.request).toEqual({
      TrainingJobName: 'rds-test-train-generator',
      RoleArn: ENV.roleArns.private,
      AlgorithmSpecification: {
        TrainingImage: ENV.imageUri,
        TrainingInputMode: 'File',
        ContainerEntrypoint: ['python', '-m', 'rewardds_jobs'],
        ContainerArguments: ['train-generator'],
      },
      HyperParameters: { stage: 'train-generator' },
      Environment: { REWARDDS_CONFIG_SHA256: configHash(built.config.body) },
      InputDataConfig: [
        channel('train', `s3://${PRIVATE_BUCKET}/runs/${RUN_ID}/input/train.jsonl`),
        channel('base', 's3://rds-models/qwen-0.5b/'),
        channel('config', `s3://${PRIVATE_BUCKET}/${configPrefix}`),
      ],
      OutputDataConfig: {
        S3OutputPath: `s3://${PRIVATE_BUCKET}/runs/${RUN_ID}/generator/`,
        KmsKeyId: PRIVATE_KEY,
        CompressionType: 'NONE',
      },
      ResourceConfig: {
        InstanceType: 'ml.m5.2xlarge',
        InstanceCount: 1,
        VolumeSizeInGB: 100,
        VolumeKmsKeyId: PRIVATE_KEY,
      },
      StoppingCondition: { MaxRuntimeInSeconds: 86_400 },
      EnableNetworkIsolation: true,
      Tags: [
        { Key: 'rewardds:run', Value: RUN_ID },
        { Key: 'rewardds:stage', Value: 'train-generator' },
        { Key: 'rewardds:zone', Value: 'private' },
      ],
    });
  });

  it('builds a processing job with its named outputs under the stage prefix', () => {
    const built = buildJobRequest(spec('score', { round: 2 }));
    expect(built.kind).toBe('processing');
    if (built.kind !== 'processing') return;
    const r = built.request;
    expect(r.AppSpecification).toEqual({
      ImageUri: ENV.imageUri,
      ContainerEntrypoint: ['python', '-m', 'rewardds_jobs'],
      ContainerArguments: ['score'],
    });
    expect(r.RoleArn).toBe(ENV.roleArns.synthesis);
    expect(r.ProcessingInputs?.map((i) => [i.InputName, i.S3Input?.S3Uri, i.S3Input?.LocalPath])).toEqual([
      ['base', 's3://rds-models/qwen-0.5b/', '/opt/ml/processing/input/base'],
      ['generator', `s3://${SYNTHESIS_BUCKET}/runs/${RUN_ID}/release/generator/`, '/opt/ml/processing/input/generator'],
      ['reward', `s3://${SYNTHESIS_BUCKET}/runs/${RUN_ID}/release/reward/`, '/opt/ml/processing/input/reward'],
      [
        'candidates',
        `s3://${SYNTHESIS_BUCKET}/runs/${RUN_ID}/candidates/round-2/candidates.jsonl`,
        '/opt/ml/processing/input/candidates',
      ],
      ['config', `s3://${SYNTHESIS_BUCKET}/runs/${RUN_ID}/config/rds-test-score/`, '/opt/ml/processing/input/config'],
    ]);
    expect(r.ProcessingOutputConfig).toEqual({
      KmsKeyId: SYNTHESIS_KEY,
      Outputs: [
        {
          OutputName: 'scores',
          S3Output: {
            S3Uri: `s3://${SYNTHESIS_BUCKET}/runs/${RUN_ID}/scores/round-2/`,
            LocalPath: '/opt/ml/processing/output/scores',
            S3UploadMode: 'EndOfJob',
          },
        },
      ],
    });
    expect(r.NetworkConfig).toEqual({ EnableNetworkIsolation: true });
    // ml.g5 has local NVMe storage, encrypted in hardware; SageMaker refuses a volume key for it.
    expect(r.ProcessingResources?.ClusterConfig).toEqual({
      InstanceType: 'ml.g5.2xlarge',
      InstanceCount: 1,
      VolumeSizeInGB: 100,
    });
  });

  it.each(PRIVATE_STAGES)('runs private stage %s isolated, with the private role and key everywhere', (stage) => {
    const run = runState({
      config: {
        compute: {
          instanceTypes: { proxyTraining: 'ml.p3.2xlarge', generation: 'ml.p3.2xlarge', evaluation: 'ml.p3.2xlarge' },
        },
      },
    });
    const built = buildJobRequest(spec(stage, { run }));
    const text = JSON.stringify(built.request);
    expect(built.request.RoleArn).toBe(ENV.roleArns.private);
    expect(text).not.toContain(SYNTHESIS_KEY);
    if (built.kind === 'training') {
      expect(built.request.EnableNetworkIsolation).toBe(true);
      expect(built.request.ResourceConfig?.VolumeKmsKeyId).toBe(PRIVATE_KEY);
      expect(built.request.OutputDataConfig?.KmsKeyId).toBe(PRIVATE_KEY);
      expect(built.request.OutputDataConfig?.S3OutputPath).toMatch(new RegExp(`^s3://${PRIVATE_BUCKET}/`));
    } else {
      expect(built.request.NetworkConfig?.EnableNetworkIsolation).toBe(true);
      expect(built.request.ProcessingResources?.ClusterConfig?.VolumeKmsKeyId).toBe(PRIVATE_KEY);
      expect(built.request.ProcessingOutputConfig?.KmsKeyId).toBe(PRIVATE_KEY);
      for (const out of built.request.ProcessingOutputConfig?.Outputs ?? [])
        expect(out.S3Output?.S3Uri).toMatch(new RegExp(`^s3://${PRIVATE_BUCKET}/`));
    }
  });

  it.each(SYNTHESIS_STAGES)('never points synthesis stage %s at the private bucket, key or role', (stage) => {
    const built = buildJobRequest(spec(stage, { round: ROUND_STAGES.includes(stage) ? 1 : 0 }));
    const text = JSON.stringify({ request: built.request, config: built.config });
    expect(text).not.toContain(PRIVATE_BUCKET);
    expect(text).not.toContain(PRIVATE_KEY);
    expect(text).not.toContain(ENV.roleArns.private);
    expect(built.config.kmsKeyArn).toBe(SYNTHESIS_KEY);
  });

  it('gives evaluation the test set and every round’s adapter, and writes only to the private eval/ prefix', () => {
    const built = buildJobRequest(spec('evaluate'));
    if (built.kind !== 'processing') throw new Error('evaluate is a processing job');
    expect(built.request.ProcessingInputs?.map((i) => i.InputName)).toEqual([
      'test',
      'target_base',
      'adapters',
      'config',
    ]);
    // One prefix holds every round's adapter; the environment says which folder is which round's.
    expect(built.request.ProcessingInputs?.[2]?.S3Input?.S3Uri).toBe(`s3://${SYNTHESIS_BUCKET}/runs/${RUN_ID}/target/`);
    expect(built.request.Environment).toMatchObject({
      REWARDDS_ADAPTER_ROUND_0: 'round-0/rds-tt0-1/output/model/',
      REWARDDS_ADAPTER_ROUND_1: 'round-1/rds-tt1-1/output/model/',
      REWARDDS_ADAPTER_ROUND_2: 'round-2/rds-tt2-1/output/model/',
    });
    expect(built.request.ProcessingOutputConfig?.Outputs?.[0]?.S3Output?.S3Uri).toBe(
      `s3://${PRIVATE_BUCKET}/runs/${RUN_ID}/eval/`,
    );
  });

  it('gives the canary audit the canaries, the private G and the synthetic text, and writes only to the private audit/ prefix', () => {
    const built = buildJobRequest(spec('audit-canaries'));
    if (built.kind !== 'processing') throw new Error('audit-canaries is a processing job');
    const inputs = Object.fromEntries(built.request.ProcessingInputs!.map((i) => [i.InputName, i.S3Input?.S3Uri]));
    expect(inputs).toEqual({
      canaries: `s3://${PRIVATE_BUCKET}/runs/${RUN_ID}/input/canaries.jsonl`,
      base: ENV.baseModels.proxy,
      generator: MODELS.generator,
      queries: `s3://${SYNTHESIS_BUCKET}/runs/${RUN_ID}/queries/`,
      candidates: `s3://${SYNTHESIS_BUCKET}/runs/${RUN_ID}/candidates/`,
      config: `s3://${PRIVATE_BUCKET}/runs/${RUN_ID}/config/rds-test-audit-canaries/`,
    });
    expect(built.request.RoleArn).toBe(ENV.roleArns.private);
    expect(built.request.ProcessingOutputConfig?.Outputs).toEqual([
      {
        OutputName: 'audit',
        S3Output: {
          S3Uri: `s3://${PRIVATE_BUCKET}/runs/${RUN_ID}/audit/`,
          LocalPath: '/opt/ml/processing/output/audit',
          S3UploadMode: 'EndOfJob',
        },
      },
    ]);
    expect(built.config.body).toEqual({ seed: 0, candidates: 10_000, batchSize: 16, maxLength: 1024 });
  });

  it('keeps evaluation within SageMaker’s 10 ProcessingInputs at every round count, up to 8 refinement rounds', () => {
    for (let rounds = 0; rounds <= 8; rounds += 1) {
      const target = Array.from(
        { length: rounds + 1 },
        (_, r) => `s3://${SYNTHESIS_BUCKET}/runs/${RUN_ID}/target/round-${r}/rds-tt${r}-a0/output/model/`,
      );
      const run = runState({ rounds, config: { refinement: { rounds } } });
      const built = buildJobRequest({ ...spec('evaluate'), run, models: { ...MODELS, target } });
      if (built.kind !== 'processing') throw new Error('evaluate is a processing job');
      expect(built.request.ProcessingInputs!.length).toBeLessThanOrEqual(10);
      const vars = Object.keys(built.request.Environment ?? {}).filter((k) => k.startsWith('REWARDDS_ADAPTER_ROUND_'));
      expect(vars).toHaveLength(rounds + 1);
    }
  });

  it('refuses an adapter that does not lie under the run’s target prefix', () => {
    const models = { ...MODELS, target: [MODELS.target[0]!, 's3://elsewhere/adapter/', MODELS.target[2]!] };
    expect(() => buildJobRequest({ ...spec('evaluate'), models })).toThrow(
      /evaluate: models.target\[1\] .* is not under s3:\/\/.*\/runs\/.*\/target\//,
    );
  });

  it('continues the target from the previous round and names what is missing', () => {
    const built = buildJobRequest(spec('train-target', { round: 2 }));
    if (built.kind !== 'training') throw new Error('train-target is a training job');
    const channels = Object.fromEntries(
      built.request.InputDataConfig!.map((c) => [c.ChannelName, c.DataSource?.S3DataSource?.S3Uri]),
    );
    expect(channels).toMatchObject({
      pool: `s3://${SYNTHESIS_BUCKET}/runs/${RUN_ID}/pool/round-2.jsonl`,
      target_base: 's3://rds-models/qwen-7b/',
      target: MODELS.target[1],
    });
    expect(built.request.OutputDataConfig?.S3OutputPath).toBe(
      `s3://${SYNTHESIS_BUCKET}/runs/${RUN_ID}/target/round-2/`,
    );
    const round0 = buildJobRequest(spec('train-target', { round: 0 }));
    expect(JSON.stringify(round0.request)).not.toContain('"target"');
    expect(() => buildJobRequest(spec('train-target', { round: 1, models: { generator: MODELS.generator } }))).toThrow(
      'train-target: models.target[0] is missing',
    );
    expect(() => buildJobRequest(spec('build-pairs', { models: {} }))).toThrow(
      'build-pairs: models.generator is missing',
    );
  });

  it('adds spot training with checkpoints, or a warm pool, but not both', () => {
    const spot = buildJobRequest(
      spec('train-reward', { run: runState({ config: { compute: { spot: true, maxRuntime: 7200 } } }) }),
    );
    if (spot.kind !== 'training') throw new Error('training expected');
    expect(spot.request.EnableManagedSpotTraining).toBe(true);
    expect(spot.request.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 7200, MaxWaitTimeInSeconds: 14_400 });
    expect(spot.request.CheckpointConfig).toEqual({
      S3Uri: `s3://${PRIVATE_BUCKET}/runs/${RUN_ID}/checkpoints/train-reward/`,
      LocalPath: '/opt/ml/checkpoints',
    });

    const warm = buildJobRequest(
      spec('train-target', { run: runState({ config: { compute: { warmPoolSeconds: 900 } } }) }),
    );
    if (warm.kind !== 'training') throw new Error('training expected');
    expect(warm.request.ResourceConfig?.KeepAlivePeriodInSeconds).toBe(900);
    expect(warm.request.EnableManagedSpotTraining).toBeUndefined();

    expect(() =>
      buildJobRequest(
        spec('train-target', { run: runState({ config: { compute: { warmPoolSeconds: 900, spot: true } } }) }),
      ),
    ).toThrow(/cannot be combined/);
  });

  it('reads the seeds only when the run has them', () => {
    const names = (hasSeeds: boolean) => {
      const built = buildJobRequest(spec('synthesize-queries', { run: runState({ hasSeeds }) }));
      return built.kind === 'processing' ? built.request.ProcessingInputs?.map((i) => i.InputName) : [];
    };
    expect(names(true)).toEqual(['base', 'generator', 'seeds', 'config']);
    expect(names(false)).toEqual(['base', 'generator', 'config']);
  });

  it('refuses rounds where a stage has none, or past the run’s last round', () => {
    expect(() => buildJobRequest(spec('train-generator', { round: 1 }))).toThrow(/has no rounds/);
    expect(() => buildJobRequest(spec('refine', { round: 3 }))).toThrow(/past the run's 2 refinement rounds/);
  });

  it('knows which instance families carry local NVMe storage', () => {
    expect(['ml.g5.2xlarge', 'ml.g4dn.xlarge', 'ml.p4d.24xlarge', 'ml.g6e.12xlarge'].map(hasLocalStorage)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['ml.m5.xlarge', 'ml.p3.2xlarge', 'ml.c5.4xlarge'].map(hasLocalStorage)).toEqual([false, false, false]);
    // Families newer than the first list: all carry NVMe, so SageMaker refuses a VolumeKmsKeyId for them.
    for (const type of [
      'ml.p6-b200.48xlarge',
      'ml.p6e-gb200.36xlarge',
      'ml.trn2.48xlarge',
      'ml.g7e.2xlarge',
      'ml.r5d.large',
    ])
      expect([type, hasLocalStorage(type)]).toEqual([type, true]);
    expect(['ml.c5n.xlarge', 'ml.m7i.large', 'ml.r8i.large', 'ml.t3.medium'].map(hasLocalStorage)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('caps a processing job at SageMaker’s 777,600-s processing limit and lets training jobs have the 28 days', () => {
    const run = runState({ config: { compute: { maxRuntime: 28 * 24 * 3600 } } });
    const spec = (stage: StageSpec['stage'], round = 0): StageSpec => ({
      runId: RUN_ID,
      stage,
      round,
      jobName: `rds-test-${stage}`,
      run,
      models: MODELS,
      env: ENV,
    });
    const score = buildJobRequest(spec('score', 1));
    expect(score.request.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 777_600 });
    const train = buildJobRequest(spec('train-target', 1));
    expect(train.request.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 2_419_200 });
  });
});

describe('jobName', () => {
  // Stack names: letters, digits and hyphens, starting with a letter, up to 128 characters.
  const stackNames = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,127}$/);

  it('is a valid SageMaker name of at most 63 characters for any stack, run, stage and round', () => {
    fc.assert(
      fc.property(
        stackNames,
        fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,79}$/),
        fc.constantFrom(...STAGES),
        fc.integer({ min: 0, max: 64 }),
        fc.integer({ min: 0, max: MAX_JOB_ATTEMPTS - 1 }),
        (stackName, runId, stage, round, attempt) => {
          const prefix = jobNamePrefix(stackName);
          const name = jobName(prefix, runId, stage, round, attempt);
          expect(name.startsWith(prefix)).toBe(true);
          expect(name.length).toBeLessThanOrEqual(63);
          expect(name).toMatch(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);
        },
      ),
    );
  });

  it('stays within 63 characters in the longest case: 128-character stack name, round 64, the last attempt', () => {
    const name = jobName(jobNamePrefix(`R${'x'.repeat(127)}`), 'r'.repeat(80), 'score', 64, MAX_JOB_ATTEMPTS - 1);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);
  });

  it('is the same for the same run, stage, round and attempt, and differs when any of them differs', () => {
    const prefix = jobNamePrefix('RewardDS');
    const a = jobName(prefix, RUN_ID, 'train-target', 1, 0);
    expect(jobName(prefix, RUN_ID, 'train-target', 1, 0)).toBe(a);
    const others = [
      jobName(prefix, RUN_ID, 'train-target', 1, 1),
      jobName(prefix, RUN_ID, 'train-target', 2, 0),
      jobName(prefix, RUN_ID, 'refine', 1, 0),
      jobName(prefix, `${RUN_ID}x`, 'train-target', 1, 0),
    ];
    expect(new Set([a, ...others]).size).toBe(5);
    expect(a).toMatch(/^rewardds-[0-9a-f]{6}-tt1-[0-9a-f]{8}-a0$/);
    expect(() => jobName(prefix, RUN_ID, 'score', 1, MAX_JOB_ATTEMPTS)).toThrow(JobRequestError);
  });

  it('gives each stack its own prefix, none a prefix of another (the IAM scope is `<prefix>*`)', () => {
    const names = ['RewardDS', 'rewardds', 'RewardDS-prod', 'RewardDS-prod-2', 'RewardDS-staging-eu-west-1', 'R'];
    const prefixes = names.map(jobNamePrefix);
    expect(new Set(prefixes).size).toBe(names.length);
    for (const a of prefixes) for (const b of prefixes) if (a !== b) expect(b.startsWith(a)).toBe(false);
    expect(jobNamePrefix('RewardDS')).toMatch(/^rewardds-[0-9a-f]{6}-$/);
    expect(jobNamePrefix('RewardDS-staging-eu-west-1')).toMatch(/^rewardds-s-[0-9a-f]{6}-$/);
    // Lower case only: SageMaker lowercases job names in ARNs, and IAM matches ARNs case-sensitively.
    fc.assert(
      fc.property(stackNames, (n) => {
        expect(jobNamePrefix(n)).toMatch(/^[a-z0-9-]{1,18}$/);
      }),
    );
  });

  it('refuses a prefix that is not one jobNamePrefix makes', () => {
    for (const bad of ['', 'rds', 'Rds-', 'rds--', `${'a'.repeat(18)}-`])
      expect(() => jobName(bad, RUN_ID, 'score', 1, 0)).toThrow(JobRequestError);
  });
});

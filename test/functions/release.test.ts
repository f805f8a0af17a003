import { CopyObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/release/handler.js';
import { resolveConfig } from '../../functions/prepare-run/prepare.js';
import { composeEpsilon, mechanismEpsilon, planPrivacy, pldEpsilon, type ModelPlan } from '../../core/privacy/index.js';
import { parseRunConfig } from '../../core/config/index.js';
import { memoryS3, recordingLogger, recordingMetrics } from '../helpers/memory-s3.js';

const PRIVATE = 'rewardds-private-111122223333';
const SYNTHESIS = 'rewardds-synthesis-111122223333';
const SYNTHESIS_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/synthesis-0001';
const config = { privateBucket: PRIVATE, synthesisBucket: SYNTHESIS, synthesisKeyArn: SYNTHESIS_KEY };
const RUN_ID = 'clinic-qa-3f9a2c1d';
const NOW = new Date('2026-03-02T11:00:00.000Z');
const RECORDS = 500;

const runConfig = parseRunConfig({
  privacy: { epsilon: 6 },
  generator: { batchSize: 50 },
  reward: { batchSize: 25, epochs: 2 },
});
const plan = planPrivacy({ records: RECORDS, config: runConfig });
const run = {
  runId: RUN_ID,
  records: RECORDS,
  rounds: 2,
  hasTest: true,
  hasSeeds: false,
  plan,
  config: resolveConfig(runConfig, RECORDS),
};

const folders = {
  generator: `runs/${RUN_ID}/generator/rds-gen-1-a1/output/model/`,
  reward: `runs/${RUN_ID}/reward/rds-rew-1-b2/output/model/`,
};
const models = { generator: `s3://${PRIVATE}/${folders.generator}`, reward: `s3://${PRIVATE}/${folders.reward}` };

/** metrics.json as the DP job writes it, for the schedule it really ran. */
function jobMetrics(
  stage: string,
  m: Pick<ModelPlan, 'noiseMultiplier' | 'sampleRate' | 'steps' | 'epochs' | 'clipNorm'>,
  selfReported?: number,
) {
  const epsilon = selfReported ?? mechanismEpsilon(m, plan.delta);
  return {
    stage,
    records: RECORDS,
    epochs: m.epochs,
    steps: m.steps,
    sampleRate: m.sampleRate,
    noiseMultiplier: m.noiseMultiplier,
    clipNorm: m.clipNorm,
    delta: plan.delta,
    epsilon,
    accountant: 'rdp',
    losses: [2.31, 2.02, 1.87],
    lossFirst: 2.31,
    lossLast: 1.87,
    tokensPerSecond: 812.5,
    seconds: 41.2,
  };
}

describe('release', () => {
  let s3: ReturnType<typeof memoryS3>;
  let metrics: ReturnType<typeof recordingMetrics>;
  const handler = () => createHandler({ s3: s3.client, config, logger: recordingLogger(), metrics, now: () => NOW });

  function putModels(
    generatorMetrics = jobMetrics('train-generator', plan.generator),
    rewardMetrics = jobMetrics('train-reward', plan.reward),
  ) {
    s3.put(PRIVATE, `${folders.generator}adapter_config.json`, '{"r":16}');
    s3.put(PRIVATE, `${folders.generator}adapter_model.safetensors`, Buffer.from([1, 2, 3, 4]));
    s3.put(PRIVATE, `${folders.generator}tokenizer.json`, '{"model":"bytes"}');
    s3.put(PRIVATE, `${folders.generator}metrics.json`, JSON.stringify(generatorMetrics));
    s3.put(PRIVATE, `${folders.reward}adapter_config.json`, '{"r":16}');
    s3.put(PRIVATE, `${folders.reward}adapter_model.safetensors`, Buffer.from([5, 6]));
    s3.put(PRIVATE, `${folders.reward}score_head.safetensors`, Buffer.from([7]));
    s3.put(PRIVATE, `${folders.reward}metrics.json`, JSON.stringify(rewardMetrics));
  }

  beforeEach(() => {
    s3 = memoryS3();
    metrics = recordingMetrics();
  });

  describe('models', () => {
    it('recomputes ε, copies both model folders with the synthesis key and writes privacy.json', async () => {
      putModels();
      const out = await handler()({ runId: RUN_ID, what: 'models', run, models });

      // The plan's accountant (PLD, on the plan's grid) decides; the jobs' Opacus RDP
      // self-reports compose to more than the budget, and that refuses nothing.
      expect(plan.accountant).toBe('pld');
      const total = pldEpsilon([plan.generator, plan.reward], plan.delta, { discretization: plan.discretization });
      expect(total).toBeLessThanOrEqual(6);
      expect(total).toBe(plan.epsilon);
      expect(composeEpsilon([plan.generator, plan.reward], plan.delta)).toBeGreaterThan(6);
      expect(out).toEqual({
        epsilon: total,
        delta: plan.delta,
        privacyUri: `s3://${SYNTHESIS}/runs/${RUN_ID}/release/privacy.json`,
      });

      const sse = { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: SYNTHESIS_KEY, BucketKeyEnabled: true };
      const copy = (folder: string, model: string, file: string) => ({
        Bucket: SYNTHESIS,
        Key: `runs/${RUN_ID}/release/${model}/${file}`,
        CopySource: `${PRIVATE}/${folder}${file}`,
        ...sse,
      });
      expect(s3.mock.commandCalls(CopyObjectCommand).map((c) => c.args[0].input)).toEqual([
        copy(folders.generator, 'generator', 'adapter_config.json'),
        copy(folders.generator, 'generator', 'adapter_model.safetensors'),
        copy(folders.generator, 'generator', 'tokenizer.json'),
        copy(folders.reward, 'reward', 'adapter_config.json'),
        copy(folders.reward, 'reward', 'adapter_model.safetensors'),
        copy(folders.reward, 'reward', 'score_head.safetensors'),
      ]);

      const mechanism = (stage: string, m: ModelPlan) => ({
        stage,
        sampleRate: m.sampleRate,
        steps: m.steps,
        epochs: m.epochs,
        noiseMultiplier: m.noiseMultiplier,
        clipNorm: m.clipNorm,
        epsilon: pldEpsilon([m], plan.delta, { discretization: plan.discretization }),
        selfReportedEpsilon: mechanismEpsilon(m, plan.delta),
      });
      const privacy = {
        runId: RUN_ID,
        epsilon: total,
        delta: plan.delta,
        accountant: 'pld',
        neighbouring: 'add-remove',
        targetEpsilon: 6,
        plannedEpsilon: plan.epsilon,
        records: RECORDS,
        mechanisms: {
          generator: mechanism('train-generator', plan.generator),
          reward: mechanism('train-reward', plan.reward),
        },
        released: {
          generator: ['adapter_config.json', 'adapter_model.safetensors', 'tokenizer.json'],
          reward: ['adapter_config.json', 'adapter_model.safetensors', 'score_head.safetensors'],
        },
        releasedAt: NOW.toISOString(),
      };
      expect(s3.mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input)).toEqual([
        {
          Bucket: SYNTHESIS,
          Key: `runs/${RUN_ID}/release/privacy.json`,
          Body: JSON.stringify(privacy, null, 2),
          ContentType: 'application/json',
          ...sse,
        },
      ]);
      // The training losses (private statistics without DP) never cross.
      expect(s3.keys(SYNTHESIS).some((k) => k.endsWith('metrics.json'))).toBe(false);
      expect(s3.text(SYNTHESIS, `runs/${RUN_ID}/release/privacy.json`)).not.toContain('losses');
      expect(metrics.added).toContainEqual({ name: 'ReleasedEpsilon', unit: 'None', value: total });
    });

    it('refuses over budget: a plan whose jobs compose above the target releases nothing', async () => {
      // A plan altered after planning (4× the reward steps), run as altered: the plan check
      // passes, the budget check does not.
      const longer = { ...plan.reward, steps: plan.reward.steps * 4 };
      const altered = { ...run, plan: { ...plan, reward: longer } };
      putModels(undefined, jobMetrics('train-reward', longer));
      await expect(handler()({ runId: RUN_ID, what: 'models', run: altered, models })).rejects.toMatchObject({
        name: 'PrivacyBudgetExceeded',
        message: expect.stringMatching(/compose to ε = [\d.]+ .* over the run's budget ε = 6; nothing was released/),
      });
      expect(s3.mock.commandCalls(CopyObjectCommand)).toHaveLength(0);
      expect(s3.mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    });

    // Each figure a job reports against the plan: steps exactly, the floats to 1e-9 relative.
    const offPlan: [string, (m: ReturnType<typeof jobMetrics>) => object, RegExp][] = [
      ['steps', (m) => ({ ...m, steps: m.steps - 1 }), /the job took \d+ steps, the plan \d+/],
      ['q', (m) => ({ ...m, sampleRate: m.sampleRate * (1 + 1e-8) }), /sampling rate q = [\d.e-]+, the plan's is/],
      ['σ', (m) => ({ ...m, noiseMultiplier: m.noiseMultiplier * (1 + 1e-8) }), /noise multiplier σ = /],
      ['C', (m) => ({ ...m, clipNorm: m.clipNorm * 1.5 }), /clip norm C = 1\.5, the plan's is 1\b/],
      ['δ', (m) => ({ ...m, delta: m.delta * (1 + 1e-8) }), /the job accounted at δ = [\d.e-]+, the run's δ is/],
    ];
    for (const [field, alter, message] of offPlan) {
      it(`refuses a job whose ${field} differs from the plan, before anything is copied`, async () => {
        // The self-reported ε is recomputed for what the job says it ran, so only the plan check can refuse.
        const altered = alter(jobMetrics('train-reward', plan.reward)) as ReturnType<typeof jobMetrics>;
        putModels(undefined, { ...altered, epsilon: mechanismEpsilon(altered, altered.delta) });
        await expect(handler()({ runId: RUN_ID, what: 'models', run, models })).rejects.toMatchObject({
          name: 'PrivacyCheckFailed',
          message: expect.stringMatching(new RegExp(`^reward: .*${message.source}.*nothing was released$`)),
        });
        expect(s3.mock.commandCalls(CopyObjectCommand)).toHaveLength(0);
        expect(s3.mock.commandCalls(PutObjectCommand)).toHaveLength(0);
      });
    }

    it('accepts floats that match the plan within 1e-9 relative', async () => {
      const m = jobMetrics('train-generator', plan.generator);
      const near = { ...m, sampleRate: m.sampleRate * (1 + 1e-11), noiseMultiplier: m.noiseMultiplier * (1 - 1e-11) };
      putModels(near);
      const out = await handler()({ runId: RUN_ID, what: 'models', run, models });
      expect(out).toHaveProperty('privacyUri');
    });

    it('refuses when a job self-reports an ε that the steps, q and σ it took do not give', async () => {
      const honest = mechanismEpsilon(plan.generator, plan.delta);
      putModels(jobMetrics('train-generator', plan.generator, honest * (1 - 1e-4)));
      await expect(handler()({ runId: RUN_ID, what: 'models', run, models })).rejects.toMatchObject({
        name: 'PrivacyCheckFailed',
        message: expect.stringMatching(
          /^generator: the job's accountant reports ε = [\d.]+, but q = 0\.1, \d+ steps and σ = [\d.]+ give ε = [\d.]+/,
        ),
      });
      expect(s3.mock.commandCalls(CopyObjectCommand)).toHaveLength(0);
    });

    it('accepts a self-report within the relative tolerance', async () => {
      const honest = mechanismEpsilon(plan.reward, plan.delta);
      putModels(undefined, jobMetrics('train-reward', plan.reward, honest * (1 + 5e-7)));
      const out = await handler()({ runId: RUN_ID, what: 'models', run, models });
      expect(out).toHaveProperty('privacyUri');
    });

    it('refuses a model trained without noise (no ε)', async () => {
      putModels(undefined, { ...jobMetrics('train-reward', plan.reward), epsilon: null as unknown as number });
      await expect(handler()({ runId: RUN_ID, what: 'models', run, models })).rejects.toThrow(
        /reward: the job reports no ε/,
      );
    });

    it('refuses a job accounted at another δ', async () => {
      putModels({ ...jobMetrics('train-generator', plan.generator), delta: plan.delta * 10 });
      await expect(handler()({ runId: RUN_ID, what: 'models', run, models })).rejects.toThrow(
        /generator: the job accounted at δ/,
      );
    });

    it('refuses a model folder outside the private bucket', async () => {
      putModels();
      const elsewhere = { ...models, reward: `s3://${SYNTHESIS}/${folders.reward}` };
      await expect(handler()({ runId: RUN_ID, what: 'models', run, models: elsewhere })).rejects.toThrow(
        /models\.reward: .* is not in the private bucket/,
      );
    });

    it('refuses a model folder with nothing but metrics', async () => {
      putModels();
      for (const file of ['adapter_config.json', 'adapter_model.safetensors', 'score_head.safetensors'])
        s3.objects.delete(`${PRIVATE}/${folders.reward}${file}`);
      await expect(handler()({ runId: RUN_ID, what: 'models', run, models })).rejects.toThrow(
        /models\.reward: .* holds no model files to release/,
      );
      expect(s3.mock.commandCalls(CopyObjectCommand)).toHaveLength(0);
    });

    it('refuses when a metrics.json is missing, without a GET of the missing key', async () => {
      putModels();
      s3.objects.delete(`${PRIVATE}/${folders.generator}metrics.json`);
      await expect(handler()({ runId: RUN_ID, what: 'models', run, models })).rejects.toThrow(
        /models\.generator: no metrics\.json/,
      );
      expect(s3.mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key)).not.toContain(
        `${folders.generator}metrics.json`,
      );
    });
  });

  describe('evaluation', () => {
    const evalKey = `runs/${RUN_ID}/eval/metrics.json`;
    const rows120 = [
      { model: 'base', n: 120, rougeL: 0.18, bleu: 4.2, exactMatch: 0 },
      { model: 'round-0', n: 120, rougeL: 0.27, bleu: 9.8, exactMatch: 0.025 },
    ];
    /** A run whose plan reserves `mechanism` noise for the evaluation (ε = 0.5 of the 6). */
    const noisyRun = (mechanism: 'laplace' | 'gaussian') => {
      const config = parseRunConfig({
        privacy: { epsilon: 6 },
        generator: { batchSize: 50 },
        reward: { batchSize: 25, epochs: 2 },
        evaluation: { noise: { mechanism, epsilon: 0.5 } },
      });
      return { ...run, plan: planPrivacy({ records: RECORDS, config }), config: resolveConfig(config, RECORDS) };
    };

    it('releases no aggregate below evaluation.minTestRecords, and says why', async () => {
      s3.put(PRIVATE, evalKey, JSON.stringify({ rows: rows120.map((r) => ({ ...r, n: 49 })) }));
      expect(run.config.evaluation.minTestRecords).toBe(50);
      await handler()({ runId: RUN_ID, what: 'evaluation', run });
      expect(s3.json(SYNTHESIS, evalKey)).toEqual({
        rows: [],
        withheld:
          'the test set has 49 records, fewer than evaluation.minTestRecords = 50: aggregates over so few records say too much about each one, so none is released',
      });
      // At the minimum exactly, the rows cross.
      s3.put(PRIVATE, evalKey, JSON.stringify({ rows: rows120.map((r) => ({ ...r, n: 50 })) }));
      await handler()({ runId: RUN_ID, what: 'evaluation', run });
      expect((s3.json(SYNTHESIS, evalKey) as { rows: unknown[] }).rows).toHaveLength(2);
    });

    it('adds Laplace noise of scale (k/n)/ε to each mean, clamps to [0, 1] and drops BLEU', async () => {
      const noisy = noisyRun('laplace');
      expect(noisy.plan.evaluation).toEqual({ mechanism: 'laplace', epsilon: 0.5, delta: 0 });
      s3.put(PRIVATE, evalKey, JSON.stringify({ rows: rows120, stage: 'evaluate', seconds: 3.5 }));
      const draws = [0.75, 0.25, 0.9, 0.1];
      const uniform = () => draws.shift()!;
      await createHandler({ s3: s3.client, config, uniform })({ runId: RUN_ID, what: 'evaluation', run: noisy });
      const b = 4 / 120 / 0.5; // four means (ROUGE-L and exact match of two models)
      const laplace = (u: number) => -b * Math.sign(u - 0.5) * Math.log1p(-2 * Math.abs(u - 0.5));
      const clamp = (v: number) => Math.min(1, Math.max(0, v));
      expect(s3.json(SYNTHESIS, evalKey)).toEqual({
        rows: [
          { model: 'base', n: 120, rougeL: clamp(0.18 + laplace(0.75)), exactMatch: clamp(0 + laplace(0.25)) },
          { model: 'round-0', n: 120, rougeL: clamp(0.27 + laplace(0.9)), exactMatch: clamp(0.025 + laplace(0.1)) },
        ],
        noise: { mechanism: 'laplace', epsilon: 0.5, delta: 0, scale: b, withheldMetrics: ['bleu'] },
      });
      expect(draws).toEqual([]);
    });

    it('draws the noise from the OS, so two releases of the same metrics differ', async () => {
      const noisy = noisyRun('gaussian');
      expect(noisy.plan.evaluation).toMatchObject({ mechanism: 'gaussian', delta: noisy.plan.delta });
      s3.put(PRIVATE, evalKey, JSON.stringify({ rows: rows120 }));
      await handler()({ runId: RUN_ID, what: 'evaluation', run: noisy });
      const first = s3.json(SYNTHESIS, evalKey) as { rows: { rougeL: number }[]; noise: { scale: number } };
      await handler()({ runId: RUN_ID, what: 'evaluation', run: noisy });
      const second = s3.json(SYNTHESIS, evalKey) as { rows: { rougeL: number }[] };
      expect(first.rows[0]!.rougeL).not.toBe(second.rows[0]!.rougeL);
      expect(first.rows[0]!.rougeL).not.toBe(0.18);
      expect(first.noise.scale).toBeGreaterThan(0);
    });

    it('lists the reserved evaluation in privacy.json as the third mechanism, in the run’s total', async () => {
      const noisy = noisyRun('laplace');
      // The trainings are planned for 6 − 0.5 and checked against that.
      expect(noisy.plan.targetEpsilon).toBe(5.5);
      expect(noisy.plan.epsilon).toBeLessThanOrEqual(5.5);
      putModels(jobMetrics('train-generator', noisy.plan.generator), jobMetrics('train-reward', noisy.plan.reward));
      const out = await handler()({ runId: RUN_ID, what: 'models', run: noisy, models });
      const privacy = s3.json(SYNTHESIS, `runs/${RUN_ID}/release/privacy.json`) as Record<string, any>;
      expect(privacy.trainingEpsilon).toBe(noisy.plan.epsilon);
      expect(privacy.epsilon).toBe(noisy.plan.epsilon + 0.5);
      expect(privacy.epsilon).toBeLessThanOrEqual(6);
      expect(privacy.targetEpsilon).toBe(6);
      expect(privacy.delta).toBe(noisy.plan.delta);
      expect(privacy.mechanisms.evaluation).toMatchObject({ mechanism: 'laplace', epsilon: 0.5, delta: 0 });
      expect(out).toMatchObject({ epsilon: privacy.epsilon });
    });

    it('copies aggregate metrics only, checked, to the synthesis zone', async () => {
      const evaluation = {
        rows: [
          { model: 'base', n: 120, rougeL: 0.18, bleu: 4.2, exactMatch: 0 },
          { model: 'round-0', n: 120, rougeL: 0.27, bleu: 9.8, exactMatch: 0.025, answerAccuracy: 0.4, answerN: 118 },
          { model: 'round-2', n: 120, rougeL: 0.31 },
        ],
        // What the evaluate job really writes beside the rows: its name and wall time.
        stage: 'evaluate',
        seconds: 12.5,
      };
      s3.put(PRIVATE, evalKey, JSON.stringify(evaluation));
      const out = await handler()({ runId: RUN_ID, what: 'evaluation', run });
      expect(out).toEqual({ metricsUri: `s3://${SYNTHESIS}/${evalKey}` });
      expect(s3.mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input)).toEqual([
        {
          Bucket: SYNTHESIS,
          Key: evalKey,
          // The job's wall time stays private: only the rows cross.
          Body: JSON.stringify({ rows: evaluation.rows }, null, 2),
          ContentType: 'application/json',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: SYNTHESIS_KEY,
          BucketKeyEnabled: true,
        },
      ]);
    });

    it.each([
      [
        { rows: [{ model: 'base', n: 3, rougeL: 0.2, samples: ['Jane Doe has angina'] }] },
        /rows\.0: unexpected field\(s\) samples/,
      ],
      [{ rows: [{ model: 'Jane Doe', n: 3 }] }, /rows\.0\.model: must be "base" or "round-<r>"/],
      [{ rows: [{ model: 'base', n: 3, bleu: 'high' }] }, /rows\.0\.bleu/],
      [{ rows: [], note: 'x' }, /\(root\): unexpected field\(s\) note/],
      [{ rows: [{ model: 'base', n: 3, rougeL: 7 }] }, /rows\.0\.rougeL/],
      [{ rows: [{ model: 'base', n: 3, answerAccuracy: 1.5 }] }, /rows\.0\.answerAccuracy/],
      [{ rows: [{ model: 'base', n: 3, answerN: 'Jane' }] }, /rows\.0\.answerN/],
      [{ rows: [], stage: 'Jane Doe' }, /stage/],
    ])('refuses anything but aggregate numbers: %j', async (evaluation, message) => {
      s3.put(PRIVATE, evalKey, JSON.stringify(evaluation));
      const error = await handler()({ runId: RUN_ID, what: 'evaluation', run }).catch((e: Error) => e);
      expect(error).toMatchObject({ name: 'EvaluationNotAggregate', message: expect.stringMatching(message) });
      expect((error as Error).message).not.toContain('Jane');
      expect(s3.mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    });
  });

  describe('canary audit', () => {
    const auditKey = `runs/${RUN_ID}/audit/metrics.json`;
    const audited = { ...run, config: { ...run.config, privacy: { ...run.config.privacy, audit: { canaries: 3 } } } };
    const aggregates = {
      canaries: 3,
      heldOut: 3,
      candidates: 10_000,
      exposures: [1.2, 0.4, 3.1],
      chanceExposure: Math.LOG2E, // a random rank's expected exposure, 1/ln 2 bits
      maxExposure: 13.2878,
      auc: 0.5556,
      secretsInSynthetic: 0,
      scanned: true,
    };

    it('copies the aggregates, checked and without the job’s wall time, to the synthesis zone', async () => {
      s3.put(PRIVATE, auditKey, JSON.stringify({ ...aggregates, stage: 'audit-canaries', seconds: 81.5 }));
      const out = await handler()({ runId: RUN_ID, what: 'audit', run: audited });
      expect(out).toEqual({ metricsUri: `s3://${SYNTHESIS}/${auditKey}` });
      expect(s3.mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input)).toEqual([
        {
          Bucket: SYNTHESIS,
          Key: auditKey,
          Body: JSON.stringify(aggregates, null, 2),
          ContentType: 'application/json',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: SYNTHESIS_KEY,
          BucketKeyEnabled: true,
        },
      ]);
      // It reads the audit's result and nothing of the private input/ (where the secrets are).
      const gets = s3.mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key);
      expect(gets).toEqual([auditKey]);
    });

    it.each([
      [{ ...aggregates, secrets: ['4071936285'] }, /unexpected field\(s\) secrets/],
      [{ ...aggregates, exposures: [1.2, 0.4] }, /one per inserted canary/],
      [{ ...aggregates, exposures: [1.2, 0.4, '4071936285'] }, /exposures\.2/],
      [{ ...aggregates, auc: 1.5 }, /auc/],
      [{ ...aggregates, secretsInSynthetic: 4 }, /more than the inserted canaries/],
      [{ ...aggregates, canaries: 2, exposures: [1, 2] }, /not the run's privacy.audit.canaries/],
    ])('refuses anything but the audit’s aggregates: %j', async (metrics, message) => {
      s3.put(PRIVATE, auditKey, JSON.stringify(metrics));
      const error = await handler()({ runId: RUN_ID, what: 'audit', run: audited }).catch((e: Error) => e);
      expect(error).toMatchObject({ name: 'AuditNotAggregate', message: expect.stringMatching(message) });
      expect((error as Error).message).not.toContain('4071936285');
      expect(s3.mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    });
  });

  it.each([
    ['evaluation', 'eval', 'EvaluationNotAggregate'],
    ['audit', 'audit', 'AuditNotAggregate'],
  ] as const)('refuses a %s file that is not JSON, naming the key only', async (what, folder, name) => {
    const key = `runs/${RUN_ID}/${folder}/metrics.json`;
    s3.put(PRIVATE, key, 'Jane Doe {');
    const error = await handler()({ runId: RUN_ID, what, run }).catch((e: Error) => e);
    expect(error).toMatchObject({ name, message: `${key}: not valid JSON` });
    expect(s3.mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});

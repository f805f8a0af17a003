import { describe, expect, it } from 'vitest';
import { buildStageConfig, INFERENCE_BATCH_SIZE } from '../../../core/config/index.js';
import { STAGES, type Stage } from '../../../core/contract/index.js';
import { runState } from '../../helpers/job-fixtures.js';

/** docs/job-contract.md, "config.json keys", copied by hand: the job refuses any other key. */
const CONTRACT_KEYS: Record<Stage, string[]> = {
  'train-generator': [
    'seed',
    'epochs',
    'batchSize',
    'learningRate',
    'lora',
    'maxLength',
    'noiseMultiplier',
    'clipNorm',
    'delta',
    'lossOn',
  ],
  'build-pairs': ['seed', 'maxNewTokens', 'maxLength', 'batchSize'],
  'train-reward': [
    'seed',
    'epochs',
    'batchSize',
    'learningRate',
    'lora',
    'maxLength',
    'noiseMultiplier',
    'clipNorm',
    'delta',
  ],
  'synthesize-queries': [
    'seed',
    'queries',
    'temperature',
    'topP',
    'maxNewTokens',
    'fewShot',
    'attemptsPerQuery',
    'queryPrompt',
  ],
  'sample-candidates': ['seed', 'candidates', 'temperature', 'topP', 'maxNewTokens'],
  score: ['batchSize', 'maxLength'],
  'train-target': [
    'seed',
    'epochs',
    'batchSize',
    'microBatchSize',
    'gradientCheckpointing',
    'learningRate',
    'lora',
    'maxLength',
  ],
  refine: ['seed', 'round', 'candidates', 'temperature', 'topP', 'maxNewTokens', 'critiqueMaxNewTokens'],
  evaluate: ['seed', 'maxNewTokens', 'metrics'],
  'audit-canaries': ['seed', 'candidates', 'batchSize', 'maxLength'],
};

describe('buildStageConfig', () => {
  it.each(STAGES)('gives %s exactly the keys of the job contract', (stage) => {
    const config = buildStageConfig({ stage, round: stage === 'refine' ? 1 : 0, run: runState() });
    expect(Object.keys(config).sort()).toEqual([...CONTRACT_KEYS[stage]].sort());
  });

  it('takes the DP trainings from the run config and each model’s own σ from the plan', () => {
    const run = runState({
      config: {
        seed: 7,
        generator: { epochs: 2, batchSize: 32, lora: { r: 8 } },
        reward: { learningRate: 1e-4 },
        privacy: { clipNorm: 0.5, delta: 1e-6 },
      },
    });
    expect(buildStageConfig({ stage: 'train-generator', round: 0, run })).toEqual({
      seed: 7,
      epochs: 2,
      batchSize: 32,
      learningRate: 5e-4,
      lora: { r: 8, alpha: 32, dropout: 0.05 },
      maxLength: 1024,
      noiseMultiplier: 0.91,
      clipNorm: 0.5,
      delta: 1e-6,
      lossOn: 'response',
    });
    expect(buildStageConfig({ stage: 'train-reward', round: 0, run })).not.toHaveProperty('lossOn');
    expect(buildStageConfig({ stage: 'train-reward', round: 0, run })).toMatchObject({
      learningRate: 1e-4,
      noiseMultiplier: 1.07,
      epochs: 3,
      batchSize: 64,
    });
  });

  it('refuses a δ that was never resolved against N', () => {
    const run = runState();
    run.config.privacy.delta = 'auto';
    expect(() => buildStageConfig({ stage: 'train-reward', round: 0, run })).toThrow(
      /privacy\.delta: must be resolved/,
    );
  });

  it('shows no few-shot seeds when the run has none, and M queries as resolved', () => {
    expect(buildStageConfig({ stage: 'synthesize-queries', round: 0, run: runState({ hasSeeds: false }) })).toEqual({
      seed: 0,
      queries: 400,
      temperature: 1,
      topP: 0.7,
      maxNewTokens: 512,
      fewShot: 0,
      attemptsPerQuery: 4,
      queryPrompt: 'instruction',
    });
    expect(buildStageConfig({ stage: 'synthesize-queries', round: 0, run: runState() })).toMatchObject({ fewShot: 2 });
  });

  it('passes the round to refine and refuses round 0', () => {
    expect(buildStageConfig({ stage: 'refine', round: 2, run: runState() })).toEqual({
      seed: 0,
      round: 2,
      candidates: 6,
      temperature: 1,
      topP: 0.7,
      maxNewTokens: 512,
      critiqueMaxNewTokens: 256,
    });
    expect(() => buildStageConfig({ stage: 'refine', round: 0, run: runState() })).toThrow(/round must be 1 or more/);
  });

  it('uses the inference batch for scoring and the evaluation metrics asked for', () => {
    expect(buildStageConfig({ stage: 'score', round: 0, run: runState() })).toEqual({
      batchSize: INFERENCE_BATCH_SIZE,
      maxLength: 1024,
    });
    expect(
      buildStageConfig({
        stage: 'evaluate',
        round: 0,
        run: runState({ config: { evaluation: { metrics: ['rougeL'] } } }),
      }),
    ).toEqual({ seed: 0, maxNewTokens: 512, metrics: ['rougeL'] });
    expect(
      buildStageConfig({
        stage: 'evaluate',
        round: 0,
        run: runState({ config: { evaluation: { answerPattern: 'code (\\d+)' } } }),
      }),
    ).toEqual({ seed: 0, maxNewTokens: 512, metrics: ['rougeL', 'bleu', 'exactMatch'], answerPattern: 'code (\\d+)' });
  });
});

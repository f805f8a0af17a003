/**
 * Each job's `config.json` (docs/job-contract.md, "config.json keys"): the stage's slice of
 * the resolved run config and the privacy plan, with exactly the keys the job accepts (the
 * job refuses unknown keys, so nothing extra may slip in).
 */
import type { RunState, Stage } from '../contract/index.js';
import { namedError } from '../contract/named-error.js';

/**
 * The run config has no key for the inference batch (generation and scoring); this one
 * fits a 0.5B-class proxy with 1–2k-token sequences on a 24 GB GPU.
 */
export const INFERENCE_BATCH_SIZE = 16;

/**
 * Random candidate codes each canary secret is ranked against (docs/privacy.md): the exposure
 * estimate then reaches log2(10,001) ≈ 13.3 bits.
 */
export const AUDIT_CANDIDATES = 10_000;

export interface StageConfigSpec {
  stage: Stage;
  /** The target round (train-target, refine); 0 elsewhere. */
  round: number;
  run: RunState;
}

export class StageConfigError extends namedError('StageConfigError') {}

type Lora = { r: number; alpha: number; dropout: number };
const lora = (l: Lora): Lora => ({ r: l.r, alpha: l.alpha, dropout: l.dropout });

function dpTraining(run: RunState, which: 'generator' | 'reward') {
  const model = run.config[which];
  const delta = run.config.privacy.delta;
  // Prepare run resolves "auto" against N; a job must never account with a placeholder.
  if (typeof delta !== 'number')
    throw new StageConfigError(`run.config.privacy.delta: must be resolved to a number before train-${which}`);
  return {
    seed: run.config.seed,
    epochs: model.epochs,
    batchSize: model.batchSize,
    learningRate: model.learningRate,
    lora: lora(model.lora),
    maxLength: model.maxLength,
    noiseMultiplier: run.plan[which].noiseMultiplier,
    clipNorm: run.config.privacy.clipNorm,
    delta,
  };
}

/** The `config.json` object of one stage. */
export function buildStageConfig({ stage, round, run }: StageConfigSpec): Record<string, unknown> {
  const { config } = run;
  const sampling = {
    temperature: config.synthesis.temperature,
    topP: config.synthesis.topP,
    maxNewTokens: config.synthesis.maxNewTokens,
  };
  switch (stage) {
    case 'train-generator':
      return { ...dpTraining(run, 'generator'), lossOn: config.generator.lossOn };
    case 'train-reward':
      return dpTraining(run, 'reward');
    case 'build-pairs':
      return {
        seed: config.seed,
        maxNewTokens: config.synthesis.maxNewTokens,
        maxLength: config.generator.maxLength,
        batchSize: INFERENCE_BATCH_SIZE,
      };
    case 'synthesize-queries':
      return {
        seed: config.seed,
        // docs/design.md#synthesize-queries: M defaults to N; Prepare run normally sets it already.
        queries: config.synthesis.queries ?? run.records,
        ...sampling,
        // Without a seeds file there is nothing to show; say so rather than let the job guess.
        fewShot: run.hasSeeds ? config.synthesis.fewShot : 0,
        attemptsPerQuery: config.synthesis.attemptsPerQuery,
        queryPrompt: config.synthesis.queryPrompt,
      };
    case 'sample-candidates':
      return { seed: config.seed, candidates: config.synthesis.candidates, ...sampling };
    case 'score':
      return { batchSize: INFERENCE_BATCH_SIZE, maxLength: config.reward.maxLength };
    case 'train-target':
      return {
        seed: config.seed,
        epochs: config.target.epochs,
        batchSize: config.target.batchSize,
        microBatchSize: config.target.microBatchSize,
        gradientCheckpointing: config.target.gradientCheckpointing,
        learningRate: config.target.learningRate,
        lora: lora(config.target.lora),
        maxLength: config.target.maxLength,
      };
    case 'refine':
      if (round < 1) throw new StageConfigError(`refine: round must be 1 or more, got ${round}`);
      return {
        seed: config.seed,
        round,
        candidates: config.synthesis.candidates,
        ...sampling,
        critiqueMaxNewTokens: config.refinement.critiqueMaxNewTokens,
      };
    case 'evaluate':
      return {
        seed: config.seed,
        maxNewTokens: config.evaluation.maxNewTokens,
        metrics: [...config.evaluation.metrics],
        ...(config.evaluation.answerPattern === undefined ? {} : { answerPattern: config.evaluation.answerPattern }),
      };
    case 'audit-canaries':
      return {
        seed: config.seed,
        candidates: AUDIT_CANDIDATES,
        batchSize: INFERENCE_BATCH_SIZE,
        maxLength: config.generator.maxLength,
      };
  }
}

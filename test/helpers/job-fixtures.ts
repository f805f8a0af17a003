/** A resolved run and a deployment environment, as start-job sees them, for the job-control tests. */
import type { RunState } from '../../core/contract/index.js';
import { parseRunConfig } from '../../core/config/index.js';
import type { JobEnvironment } from '../../core/sagemaker/index.js';

export const RUN_ID = 'clinic-qa-3f9a2c1d';
export const PRIVATE_BUCKET = 'rds-private-bucket';
export const SYNTHESIS_BUCKET = 'rds-synthesis-bucket';
export const PRIVATE_KEY = 'arn:aws:kms:us-east-1:111122223333:key/private-0000';
export const SYNTHESIS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/synthesis-0000';

export const ENV: JobEnvironment = {
  imageUri: '111122223333.dkr.ecr.us-east-1.amazonaws.com/cdk-assets:abc',
  roleArns: {
    private: 'arn:aws:iam::111122223333:role/PrivateJobRole',
    synthesis: 'arn:aws:iam::111122223333:role/SynthesisJobRole',
  },
  buckets: { private: PRIVATE_BUCKET, synthesis: SYNTHESIS_BUCKET },
  kmsKeyArns: { private: PRIVATE_KEY, synthesis: SYNTHESIS_KEY },
  baseModels: { proxy: 's3://rds-models/qwen-0.5b/', target: 's3://rds-models/qwen-7b/' },
};

export function runState(
  overrides: { config?: Record<string, unknown>; rounds?: number; hasTest?: boolean; hasSeeds?: boolean } = {},
): RunState {
  const config = parseRunConfig({ privacy: { delta: 2.5e-6 }, synthesis: { queries: 400 }, ...overrides.config });
  return {
    runId: RUN_ID,
    records: 400,
    rounds: overrides.rounds ?? config.refinement.rounds,
    hasTest: overrides.hasTest ?? true,
    hasSeeds: overrides.hasSeeds ?? true,
    plan: { generator: { noiseMultiplier: 0.91 }, reward: { noiseMultiplier: 1.07 } },
    config,
  };
}

export const MODELS = {
  generator: `s3://${PRIVATE_BUCKET}/runs/${RUN_ID}/generator/rds-tg-1/output/model/`,
  reward: `s3://${PRIVATE_BUCKET}/runs/${RUN_ID}/reward/rds-tr-1/output/model/`,
  target: [0, 1, 2].map((r) => `s3://${SYNTHESIS_BUCKET}/runs/${RUN_ID}/target/round-${r}/rds-tt${r}-1/output/model/`),
};

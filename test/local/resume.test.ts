/**
 * Resuming a failed run (docs/operations.md, "Resume a failed run"): a new execution with
 * the same run id and upload. Jobs are named per run, stage, round and attempt and
 * start-job adopts a Completed job of the same request, so the finished DP trainings are
 * not run again (no second privacy cost) and only the failed stage gets a new attempt.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateExample } from '../../examples/generate.js';
import { type LocalRunResult, runLocal } from '../../local/runner.js';
import { sharedTinyModels } from '../helpers/tiny-models.js';

const SMALL_CONFIG = {
  seed: 5,
  privacy: { epsilon: 8 },
  generator: { epochs: 1, batchSize: 4, learningRate: 0.001, maxLength: 48, lora: { r: 2, alpha: 4 } },
  reward: { epochs: 1, batchSize: 4, learningRate: 0.001, maxLength: 48, lora: { r: 2, alpha: 4 } },
  synthesis: { queries: 4, candidates: 2, maxNewTokens: 4, fewShot: 0, attemptsPerQuery: 4 },
  filter: { keepFraction: 0.5 },
  refinement: { rounds: 0 },
  target: { epochs: 1, batchSize: 2, learningRate: 0.001, maxLength: 48, lora: { r: 2, alpha: 4 } },
  compute: { maxRuntime: 600 },
};

let work: string;
let result: LocalRunResult;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'rewardds-resume-'));
  const example = generateExample({ seed: 7, train: 12, test: 0, seeds: 0 });
  mkdirSync(join(work, 'clinic'), { recursive: true });
  const train = join(work, 'clinic', 'train.jsonl');
  writeFileSync(train, `${example.train.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const config = join(work, 'config.json');
  writeFileSync(config, JSON.stringify(SMALL_CONFIG));
  result = await runLocal({
    train,
    config,
    workdir: join(work, 'wd'),
    baseModels: await sharedTinyModels(),
    failStages: ['sample-candidates'],
    resumeOnFailure: true,
    waitMs: 50,
  });
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a failed run, resumed as a new execution of the same run', () => {
  it('succeeds as the resumed execution', () => {
    expect(result.resumedAs).toBe(`${result.runId}-resume-1`);
    expect(result.status).toBe('succeeded');
  });

  it('adopts the finished DP trainings instead of training again, and retries only the failed stage', () => {
    const byStage = (stage: string) => result.jobs.filter((j) => j.stage === stage);
    for (const stage of ['train-generator', 'build-pairs', 'train-reward', 'synthesize-queries']) {
      expect(byStage(stage).map((j) => [j.name.slice(-3), j.status])).toEqual([['-a0', 'Completed']]);
    }
    expect(byStage('sample-candidates').map((j) => [j.name.slice(-3), j.status])).toEqual([
      ['-a0', 'Failed'],
      ['-a1', 'Completed'],
    ]);
    expect(byStage('train-target').map((j) => j.status)).toEqual(['Completed']);
  });
});

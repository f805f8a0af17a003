/**
 * The local job cache through the whole pipeline: two runs that differ only in
 * `filter.method` (as two bench cells of one ε and seed) — the second completes every job
 * before filtering from the cache, through the same state machine, and its copies are the
 * first run's bytes; a run at another ε trains both DP models afresh.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGES } from '../../core/contract/index.js';
import { jobNameRunPart } from '../../core/sagemaker/index.js';
import { generateExample } from '../../examples/generate.js';
import { type LocalRunResult, runLocal } from '../../local/runner.js';
import { sharedTinyModels } from '../helpers/tiny-models.js';

const CONFIG = {
  seed: 5,
  privacy: { epsilon: 8 },
  generator: { epochs: 1, batchSize: 4, learningRate: 0.001, maxLength: 48, lora: { r: 2, alpha: 4 } },
  reward: { epochs: 1, batchSize: 4, learningRate: 0.001, maxLength: 48, lora: { r: 2, alpha: 4 } },
  synthesis: { queries: 6, candidates: 2, maxNewTokens: 4, fewShot: 0, attemptsPerQuery: 4 },
  filter: { method: 'reward', keepFraction: 0.5 },
  refinement: { rounds: 0 },
  target: { epochs: 1, batchSize: 2, learningRate: 0.001, maxLength: 48, lora: { r: 2, alpha: 4 } },
  compute: { maxRuntime: 600 },
};

/** The stages before filtering (STAGES lists them first, in pipeline order): what two cells of one ε and seed share. */
const BEFORE_FILTER = STAGES.slice(0, STAGES.indexOf('score') + 1);

let work: string;
let cache: string;
const runs: Record<'a' | 'b' | 'c', { result: LocalRunResult; progress: string[] }> = {} as never;

/** One run of the same records under the upload name `name` (so each run has its own run id). */
async function runAs(name: string, config: Record<string, unknown>, extra: Partial<Parameters<typeof runLocal>[0]>) {
  const example = generateExample({ seed: 7, train: 12, test: 0, seeds: 0 });
  mkdirSync(join(work, name), { recursive: true });
  const train = join(work, name, 'train.jsonl');
  writeFileSync(train, `${example.train.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const configPath = join(work, `${name}.config.json`);
  writeFileSync(configPath, JSON.stringify(config));
  const progress: string[] = [];
  const result = await runLocal({
    train,
    config: configPath,
    workdir: join(work, 'wd'),
    baseModels: await sharedTinyModels(),
    waitMs: 50,
    progress: (line) => progress.push(line),
    ...extra,
  });
  return { result, progress };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'rewardds-jobcache-'));
  cache = join(work, 'job-cache');
  runs.a = await runAs('clinic-a', CONFIG, { jobCache: cache });
  runs.b = await runAs('clinic-b', { ...CONFIG, filter: { ...CONFIG.filter, method: 'none' } }, { jobCache: cache });
  // Another ε; stopped after the DP trainings (a stage failed on purpose) to keep the test short.
  runs.c = await runAs(
    'clinic-c',
    { ...CONFIG, privacy: { epsilon: 4 } },
    { jobCache: cache, failStages: ['synthesize-queries'] },
  );
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const reusedStages = (result: LocalRunResult) => result.jobs.filter((j) => j.reusedFrom).map((j) => j.stage);
const ranStages = (result: LocalRunResult) => result.jobs.filter((j) => !j.reusedFrom).map((j) => j.stage);

/** Every file below `dir`, by its path with the run's part of job names made neutral, → its bytes. */
function tree(dir: string, runId: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(relative(dir, path).replace(`-${jobNameRunPart(runId)}-`, '-<run>-'), readFileSync(path));
    }
  };
  if (existsSync(dir)) walk(dir);
  return files;
}

describe('two runs that differ only in filter.method, with the job cache on', () => {
  it('both succeed, as separate runs', () => {
    expect(runs.a.result.status).toBe('succeeded');
    expect(runs.b.result.status).toBe('succeeded');
    expect(runs.a.result.runId).not.toBe(runs.b.result.runId);
  });

  it('the first run fills the cache and reuses nothing', () => {
    expect(reusedStages(runs.a.result)).toEqual([]);
    expect(ranStages(runs.a.result).sort()).toEqual([...BEFORE_FILTER, 'train-target'].sort());
    const madeByA = readdirSync(cache)
      .filter((e) => /^[0-9a-f]{64}$/.test(e))
      .map((e) => JSON.parse(readFileSync(join(cache, e, 'manifest.json'), 'utf8')) as { sourceJob: string })
      .filter((m) => runs.a.result.jobs.some((j) => j.name === m.sourceJob));
    expect(madeByA).toHaveLength(7);
  });

  it('the second reuses exactly the jobs before filtering, and says so in its progress', () => {
    expect(reusedStages(runs.b.result).sort()).toEqual([...BEFORE_FILTER].sort());
    // Its pool differs (another filter), so the target is trained on it.
    const pool = (r: LocalRunResult) => readFileSync(join(r.outputDir, 'synthesis', 'pool', 'round-0.jsonl'));
    expect(pool(runs.b.result).equals(pool(runs.a.result))).toBe(false);
    expect(ranStages(runs.b.result)).toEqual(['train-target']);
    for (const job of runs.b.result.jobs.filter((j) => j.reusedFrom)) {
      expect(
        runs.b.progress.some((l) =>
          l.includes(`${job.name} (${job.stage}) completed: reused from cache ${job.reusedFrom}`),
        ),
      ).toBe(true);
      expect(readFileSync(job.logPath, 'utf8')).toMatch(/^reused from cache [0-9a-f]{64}: the outputs of job /);
    }
  });

  it('its reused outputs, and everything made from them, are the first run’s bytes', () => {
    const a = runs.a.result;
    const b = runs.b.result;
    const folders = [
      'private/generator',
      'private/pairs',
      'private/reward',
      'synthesis/release/generator',
      'synthesis/release/reward',
      'synthesis/queries',
      'synthesis/candidates/round-0',
      'synthesis/scores/round-0',
    ];
    for (const folder of folders) {
      const fromA = tree(join(a.outputDir, folder), a.runId);
      const fromB = tree(join(b.outputDir, folder), b.runId);
      expect(fromA.size, folder).toBeGreaterThan(0);
      expect([...fromB.keys()].sort(), folder).toEqual([...fromA.keys()].sort());
      for (const [path, bytes] of fromA) expect(fromB.get(path)!.equals(bytes), `${folder}/${path}`).toBe(true);
    }
    // A training job's metrics, in its model and its output data, came along too.
    const generator = [...tree(join(b.outputDir, 'private', 'generator'), b.runId).keys()];
    expect(generator.filter((p) => p.endsWith('/metrics.json')).sort()).toEqual([
      expect.stringMatching(/output\/data\/metrics\.json$/),
      expect.stringMatching(/output\/model\/metrics\.json$/),
    ]);
    // The privacy figures the release computed from the reused models are the first run's too.
    const privacy = (r: LocalRunResult) =>
      readFileSync(join(r.outputDir, 'synthesis', 'release', 'privacy.json'), 'utf8');
    // (Only the run's name and the time of its release differ.)
    const sameRun = { runId: a.runId, releasedAt: JSON.parse(privacy(a)).releasedAt };
    expect({ ...JSON.parse(privacy(b)), ...sameRun }).toEqual(JSON.parse(privacy(a)));
  });
});

describe('a run at another ε, with the same cache', () => {
  it('trains both DP models afresh and reuses nothing', () => {
    const c = runs.c.result;
    expect(c.status).toBe('failed');
    expect(c.failure?.state).toBe('Synthesize queries');
    expect(reusedStages(c)).toEqual([]);
    expect(ranStages(c)).toEqual(expect.arrayContaining(['train-generator', 'build-pairs', 'train-reward']));
  });
});

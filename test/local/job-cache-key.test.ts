/**
 * The local job cache's key over real requests from the request builder: two runs' jobs
 * that differ only in the run's names get the same key; any other field of the request,
 * any input's content, the job code and the runtime each change it.
 */
import type { CreateTrainingJobRequest } from '@aws-sdk/client-sagemaker';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Stage } from '../../core/contract/index.js';
import { buildJobRequest, jobName, jobNamePrefix, type StageSpec } from '../../core/sagemaker/index.js';
import {
  canonicalRequest,
  jobCacheKey,
  type JobCacheKeyParts,
  runNameRemover,
  treeDigest,
} from '../../local/sagemaker/job-cache-key.js';
import { ENV, PRIVATE_BUCKET, runState, SYNTHESIS_BUCKET } from '../helpers/job-fixtures.js';

const PREFIX = jobNamePrefix('RewardDS-local');

interface Variant {
  runId?: string;
  config?: Record<string, unknown>;
  noise?: { generator: number; reward: number };
  round?: number;
}

function built(stage: Stage, v: Variant = {}) {
  const runId = v.runId ?? 'clinic-3f9a2c1d';
  const round = v.round ?? 0;
  const state = runState({ config: v.config, rounds: 2 });
  const run = {
    ...state,
    runId,
    ...(v.noise
      ? { plan: { generator: { noiseMultiplier: v.noise.generator }, reward: { noiseMultiplier: v.noise.reward } } }
      : {}),
  };
  const name = (s: Stage, r: number) => jobName(PREFIX, runId, s, r, 0);
  const spec: StageSpec = {
    runId,
    stage,
    round,
    jobName: name(stage, round),
    run,
    models: {
      generator: `s3://${PRIVATE_BUCKET}/runs/${runId}/generator/${name('train-generator', 0)}/output/model/`,
      reward: `s3://${PRIVATE_BUCKET}/runs/${runId}/reward/${name('train-reward', 0)}/output/model/`,
      target: [0, 1, 2].map(
        (r) => `s3://${SYNTHESIS_BUCKET}/runs/${runId}/target/round-${r}/${name('train-target', r)}/output/model/`,
      ),
    },
    env: ENV,
  };
  return buildJobRequest(spec);
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** The key parts as the local backend forms them: the config input's digest is that of the config.json start-job wrote. */
function parts(stage: Stage, v: Variant = {}, extra: Partial<JobCacheKeyParts> = {}): JobCacheKeyParts {
  const job = built(stage, v);
  const inputs: Record<string, string> = {
    config: treeDigest([{ path: 'config.json', sha256: sha(JSON.stringify(job.config.body)) }]),
  };
  const names =
    job.kind === 'training'
      ? (job.request.InputDataConfig ?? []).map((c) => c.ChannelName!)
      : (job.request.ProcessingInputs ?? []).map((i) => i.InputName!);
  for (const name of names) if (name !== 'config') inputs[name] = sha(`content of ${name}`);
  return {
    job:
      job.kind === 'training'
        ? { kind: 'training', request: job.request }
        : { kind: 'processing', request: job.request },
    stage,
    inputs,
    code: sha('rewardds_jobs'),
    runtime: { python: '/repo/.venv/bin/python', packages: sha('torch-2.5'), env: '{}' },
    ...extra,
  };
}

const key = (p: JobCacheKeyParts) => {
  const k = jobCacheKey(p);
  expect(k).toMatch(/^[0-9a-f]{64}$/);
  return k!;
};

const STAGES: [Stage, number][] = [
  ['train-generator', 0],
  ['build-pairs', 0],
  ['train-reward', 0],
  ['synthesize-queries', 0],
  ['sample-candidates', 0],
  ['score', 0],
  ['score', 1],
  ['train-target', 1],
  ['refine', 1],
  ['evaluate', 0],
];

describe('the job cache key', () => {
  it.each(STAGES)('ignores only the run’s names: %s round %i of two runs gets one key', (stage, round) => {
    const a = parts(stage, { runId: 'clinic-3f9a2c1d', round });
    const b = parts(stage, { runId: 'harbor-0b1c2d3e', round });
    // The requests do differ: every S3 location, the job name and the run tag name the run.
    expect(JSON.stringify(a.job.request)).not.toBe(JSON.stringify(b.job.request));
    expect(JSON.stringify(a.job.request)).toContain('clinic-3f9a2c1d');
    expect(JSON.stringify(canonicalRequest(a.job, 'clinic-3f9a2c1d'))).not.toContain('clinic-3f9a2c1d');
    expect(key(a)).toBe(key(b));
  });

  it.each(['train-generator', 'train-reward'] as Stage[])(
    'keys %s by seed, ε (σ), steps and learning rate',
    (stage) => {
      const base = key(parts(stage));
      expect(key(parts(stage, { config: { seed: 43 } }))).not.toBe(base);
      expect(key(parts(stage, { noise: { generator: 0.5, reward: 0.6 } }))).not.toBe(base);
      expect(key(parts(stage, { config: { generator: { epochs: 7 }, reward: { epochs: 7 } } }))).not.toBe(base);
      expect(
        key(parts(stage, { config: { generator: { learningRate: 0.01 }, reward: { learningRate: 0.01 } } })),
      ).not.toBe(base);
    },
  );

  it('keys a seed change through the config input alone, and through the config hash alone', () => {
    const a = parts('train-generator');
    const b = parts('train-generator', { config: { seed: 43 } });
    // Only the config input's content differs …
    expect(key({ ...a, inputs: b.inputs })).not.toBe(key(a));
    // … or only the request (its REWARDDS_CONFIG_SHA256): each alone is enough.
    expect(key({ ...b, inputs: a.inputs })).not.toBe(key(a));
  });

  it('changes with every field of the request but the job name', () => {
    const p = parts('train-generator');
    const base = key(p);
    const leaves: string[][] = [];
    const walk = (value: unknown, path: string[]) => {
      if (value !== null && typeof value === 'object')
        for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
      else leaves.push(path);
    };
    walk(p.job.request, []);
    expect(leaves.length).toBeGreaterThan(25);
    for (const path of leaves) {
      const request = structuredClone(p.job.request) as unknown as Record<string, unknown>;
      let at: Record<string, unknown> = request;
      for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
      const last = path.at(-1)!;
      const value = at[last];
      // The run tag's value is what names are replaced by: a changed run is the same job.
      if (path.join('.') === 'Tags.0.Value') continue;
      at[last] = typeof value === 'number' ? value + 1 : typeof value === 'boolean' ? !value : `${String(value)}x`;
      const changed = jobCacheKey({ ...p, job: { kind: 'training', request } as unknown as JobCacheKeyParts['job'] });
      if (path.join('.') === 'TrainingJobName') expect(changed, path.join('.')).toBe(base);
      else expect(changed, path.join('.')).not.toBe(base);
    }
  });

  it('changes with any input’s content, an added input, the job code and the runtime', () => {
    const p = parts('score');
    const base = key(p);
    for (const name of Object.keys(p.inputs))
      expect(key({ ...p, inputs: { ...p.inputs, [name]: sha('other bytes') } }), name).not.toBe(base);
    expect(key({ ...p, inputs: { ...p.inputs, extra: sha('x') } })).not.toBe(base);
    expect(key({ ...p, code: sha('edited job code') })).not.toBe(base);
    for (const field of Object.keys(p.runtime))
      expect(key({ ...p, runtime: { ...p.runtime, [field]: 'other' } }), field).not.toBe(base);
  });

  it('compares this local stack’s fresh names (moto’s KMS key ids) by the logical id they stand for', () => {
    const p = parts('train-generator');
    const other = structuredClone(p.job.request) as CreateTrainingJobRequest;
    const arn = (id: string) => `arn:aws:kms:us-east-1:000000000000:key/${id}`;
    const withKey = (request: CreateTrainingJobRequest, id: string) => {
      request.OutputDataConfig!.KmsKeyId = arn(id);
      request.ResourceConfig!.VolumeKmsKeyId = arn(id);
      return { ...p, job: { kind: 'training' as const, request } };
    };
    const first = withKey(structuredClone(other), 'uuid-1');
    const second = withKey(other, 'uuid-2');
    expect(key(first)).not.toBe(key(second));
    const named = (q: JobCacheKeyParts, id: string) => ({ ...q, stackNames: { [arn(id)]: 'kms:PrivateKey' } });
    expect(key(named(first, 'uuid-1'))).toBe(key(named(second, 'uuid-2')));
    // Another key of the stack stays another key.
    expect(key(named(first, 'uuid-1'))).not.toBe(
      key({ ...second, stackNames: { [arn('uuid-2')]: 'kms:SynthesisKey' } }),
    );
  });

  it('gives no key to a request that names no run (never cached)', () => {
    const p = parts('train-generator');
    const request = { ...p.job.request, Tags: [] };
    expect(jobCacheKey({ ...p, job: { kind: 'training', request } as JobCacheKeyParts['job'] })).toBeUndefined();
  });

  it('replaces the run id as a whole value or path segment, and the run’s part of job names, nothing else', () => {
    const remove = runNameRemover('clinic-3f9a2c1d');
    const name = jobName(PREFIX, 'clinic-3f9a2c1d', 'train-target', 1, 2);
    expect(remove('clinic-3f9a2c1d')).toBe('<run>');
    expect(remove(`s3://b/runs/clinic-3f9a2c1d/target/round-1/${name}/output/model/`)).toBe(
      `s3://b/runs/<run>/target/round-1/${PREFIX}tt1-<run>-a2/output/model/`,
    );
    // A value that merely contains the id is content, not a name.
    expect(remove('clinic-3f9a2c1d-extra')).toBe('clinic-3f9a2c1d-extra');
    expect(remove('round-1/x')).toBe('round-1/x');
  });

  it('does not depend on the order a tree’s files were listed in', () => {
    const files = [
      { path: 'a.json', sha256: sha('a') },
      { path: 'sub/b.bin', sha256: sha('b') },
    ];
    expect(treeDigest(files)).toBe(treeDigest([...files].reverse()));
    expect(treeDigest(files)).not.toBe(treeDigest([files[0]!, { path: 'sub/c.bin', sha256: sha('b') }]));
  });
});

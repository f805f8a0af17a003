/**
 * The filter Lambda against a real S3-protocol server (moto on loopback) with an SSE-KMS
 * bucket and a ~50 MB scores file, built so the right pool is known in advance.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/filter/handler.js';
import { synthesisKeys } from '../../core/contract/index.js';
import { objectExists, putText, uploadStream } from '../../functions/shared/s3-objects.js';
import { readText, runState, startSynthesisBucket, type SynthesisBucket } from '../helpers/s3-bucket.js';

const M = 6000;
const CANDIDATES = 6;
const filler = 'The patient should take the medication with food and report any dizziness. '.repeat(18); // ~1.4 kB

/**
 * Query i's queryScore is a permutation of i/M, so the top ⌊M/8⌋ are known. Its best
 * candidate (index i mod 6) has that reward and the lowest perplexity; its worst (the
 * opposite index) the lowest reward and the highest perplexity.
 */
const queryScore = (i: number) => ((i * 7919) % M) / M;
const best = (i: number) => i % CANDIDATES;
const worst = (i: number) => (i + 3) % CANDIDATES;

function scoresLine(i: number): string {
  const candidates = Array.from({ length: CANDIDATES }, (_, j) => {
    if (j === best(i)) return { text: `best ${i} ${filler}`, reward: queryScore(i), ppl: 1.5 };
    if (j === worst(i)) return { text: `worst ${i} ${filler}`, reward: queryScore(i) - 2, ppl: 90 };
    return { text: `other ${i}.${j} ${filler}`, reward: queryScore(i) - 1 - j / 100, ppl: 10 + j };
  });
  return `${JSON.stringify({ id: `q-${String(i).padStart(6, '0')}`, prompt: `question ${i}?`, candidates })}\n`;
}

let env: SynthesisBucket;
const logged: unknown[] = [];

beforeAll(async () => {
  env = await startSynthesisBucket();
});
afterAll(async () => {
  await env?.server.stop();
});

const handlerFor = () =>
  createHandler({
    s3: env.s3,
    config: { synthesisBucket: env.bucket, synthesisKeyArn: env.keyArn },
    logger: { info: (...args: unknown[]) => void logged.push(args) },
  });

describe('filter Lambda over S3', () => {
  it('filters a 50 MB scores object into a KMS-encrypted pool and working set', async () => {
    const runId = 'clinic-qa-0badc0de';
    const upload = uploadStream(env.s3, env.bucket, synthesisKeys.scores(runId, 0), env.keyArn);
    let bytes = 0;
    for (let i = 0; i < M; i += 1) {
      const line = scoresLine(i);
      bytes += Buffer.byteLength(line);
      await upload.write(line);
    }
    await upload.done();
    expect(bytes).toBeGreaterThan(50e6);

    const result = await handlerFor()({ runId, run: runState(runId, M) });
    const k = Math.floor(M / 8);
    expect(result).toMatchObject({
      method: 'reward',
      queries: M,
      candidates: M * CANDIDATES,
      poolSize: k,
      workingSize: M,
    });
    expect(result.threshold).toBe((M - k) / M);
    expect(result.poolUri).toBe(`s3://${env.bucket}/${synthesisKeys.pool(runId, 0)}`);

    const working = (await readText(env.s3, env.bucket, synthesisKeys.working(runId, 0))).trimEnd().split('\n');
    expect(working).toHaveLength(M);
    for (const i of [0, 1, 2, 3, 4, 5, 1234, M - 1]) {
      const record = JSON.parse(working[i]!);
      expect(Object.keys(record)).toEqual(['id', 'prompt', 'chosen', 'rejected', 'reward']);
      expect(record.chosen.startsWith(`best ${i} `)).toBe(true);
      expect(record.rejected.startsWith(`worst ${i} `)).toBe(true);
      expect(record.reward).toBe(queryScore(i));
    }

    const pool = (await readText(env.s3, env.bucket, synthesisKeys.pool(runId, 0)))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    const expected = Array.from({ length: M }, (_, i) => i).filter((i) => queryScore(i) >= (M - k) / M);
    expect(pool.map((p) => p.id)).toEqual(expected.map((i) => `q-${String(i).padStart(6, '0')}`));
    expect(
      pool.every((p, n) => p.reward === queryScore(expected[n]!) && p.response.startsWith(`best ${expected[n]} `)),
    ).toBe(true);

    for (const key of [synthesisKeys.pool(runId, 0), synthesisKeys.working(runId, 0)]) {
      const head = await env.s3.send(new HeadObjectCommand({ Bucket: env.bucket, Key: key }));
      expect(head.ServerSideEncryption).toBe('aws:kms');
      expect(head.SSEKMSKeyId).toBe(env.keyArn);
    }
    // The log carries counts and rewards, never a candidate's text.
    expect(JSON.stringify(logged)).not.toContain(filler.slice(0, 40));
  });

  it('fails on a malformed line naming the object, line and field, and writes nothing', async () => {
    const runId = 'bad-scores-0000abcd';
    const broken = JSON.stringify({
      id: 'q-000001',
      prompt: 'q',
      candidates: [{ text: 'PRIVATE?', reward: 'x', ppl: 1 }],
    });
    await putText(
      env.s3,
      env.bucket,
      synthesisKeys.scores(runId, 0),
      `${scoresLine(0)}${broken}\n`,
      'application/x-ndjson',
      env.keyArn,
    );
    const error = (await handlerFor()({ runId, run: runState(runId, 2) }).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('InputError');
    expect(error.message).toBe(
      `s3://${env.bucket}/${synthesisKeys.scores(runId, 0)}:2:candidates[0].reward: not a number`,
    );
    expect(await objectExists(env.s3, env.bucket, synthesisKeys.working(runId, 0))).toBe(false);
    expect(await objectExists(env.s3, env.bucket, synthesisKeys.pool(runId, 0))).toBe(false);
  });

  it('runs the rouge-l baseline against the run’s public seeds', async () => {
    const runId = 'seeded-run-12345678';
    const lines = [
      {
        id: 'q-0',
        prompt: 'a',
        candidates: [
          { text: 'nothing relevant', reward: 1, ppl: 1 },
          { text: 'aspirin dose', reward: 0, ppl: 1 },
        ],
      },
      {
        id: 'q-1',
        prompt: 'b',
        candidates: [
          { text: 'no overlap', reward: 1, ppl: 1 },
          { text: 'none either', reward: 1, ppl: 1 },
        ],
      },
    ];
    await putText(
      env.s3,
      env.bucket,
      synthesisKeys.scores(runId, 0),
      lines.map((l) => `${JSON.stringify(l)}\n`).join(''),
      'application/x-ndjson',
      env.keyArn,
    );
    await putText(
      env.s3,
      env.bucket,
      synthesisKeys.seeds(runId),
      '{"id":"s-0","prompt":"What aspirin dose?"}\n',
      'application/x-ndjson',
      env.keyArn,
    );
    const result = await handlerFor()({
      runId,
      run: runState(runId, 2, { filter: { method: 'rouge-l', keepFraction: 0.5 } }, true),
    });
    expect(result).toMatchObject({ method: 'rouge-l', poolSize: 1, threshold: 0 });
    expect(JSON.parse(await readText(env.s3, env.bucket, synthesisKeys.pool(runId, 0)))).toEqual({
      id: 'q-0',
      prompt: 'a',
      response: 'aspirin dose',
      reward: 0,
    });
  });

  it('refuses an event without a run, naming the field', async () => {
    await expect(handlerFor()({ runId: 'x-1' })).rejects.toThrow(/filter: invalid input: run: /);
  });
});

/** The gate Lambda after the filter Lambda, on moto's S3 with an SSE-KMS bucket. */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler as createFilter } from '../../functions/filter/handler.js';
import { createHandler as createGate } from '../../functions/gate/handler.js';
import { synthesisKeys } from '../../core/contract/index.js';
import { objectExists, putText } from '../../functions/shared/s3-objects.js';
import { readText, runState, startSynthesisBucket, type SynthesisBucket } from '../helpers/s3-bucket.js';

let env: SynthesisBucket;
beforeAll(async () => {
  env = await startSynthesisBucket();
});
afterAll(async () => {
  await env?.server.stop();
});

const deps = () => ({ s3: env.s3, config: { synthesisBucket: env.bucket, synthesisKeyArn: env.keyArn } });
const jsonl = (records: unknown[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('');
const parse = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
/** Two candidates: `good` wins on reward and perplexity, `bad` loses on both. */
const query = (id: string, good: [string, number], bad: [string, number]) => ({
  id,
  prompt: `prompt ${id}`,
  candidates: [
    { text: bad[0], reward: bad[1], ppl: 20 },
    { text: good[0], reward: good[1], ppl: 2 },
  ],
});

describe('gate Lambda over S3', () => {
  it('reads round r−1 and the round-r scores and writes round r', async () => {
    const runId = 'gate-run-a1b2c3d4';
    // Round 0: chosen rewards 0.1…0.8; keepFraction 1/4 of 8 pools q-6 and q-7, so τ = 0.7.
    const round0 = Array.from({ length: 8 }, (_, i) => query(`q-${i}`, [`g0-${i}`, (i + 1) / 10], [`b0-${i}`, 0]));
    await putText(
      env.s3,
      env.bucket,
      synthesisKeys.scores(runId, 0),
      jsonl(round0),
      'application/x-ndjson',
      env.keyArn,
    );
    const quarter = runState(runId, 8, { filter: { keepFraction: 0.25 } });
    const filtered = await createFilter(deps())({ runId, run: quarter });
    expect(filtered).toMatchObject({ poolSize: 2, threshold: 0.7 });

    const round1 = [
      query('q-0', ['g1-0', 0.75], ['b1-0', 0]), // joins (≥ τ)
      query('q-2', ['g1-2', 0.5], ['b1-2', 0]), // below τ
      query('q-6', ['g1-6', 0.65], ['b1-6', 0]), // pooled, lower: pool keeps g0-6
      query('q-7', ['g1-7', 0.95], ['b1-7', 0]), // pooled, higher: replaced
    ];
    await putText(
      env.s3,
      env.bucket,
      synthesisKeys.scores(runId, 1),
      jsonl(round1),
      'application/x-ndjson',
      env.keyArn,
    );
    const gated = await createGate(deps())({ runId, round: 1, run: quarter });
    expect(gated).toMatchObject({
      round: 1,
      refined: 4,
      threshold: 0.7,
      added: 1,
      replaced: 1,
      poolSize: 3,
      workingSize: 8,
    });

    expect(parse(await readText(env.s3, env.bucket, synthesisKeys.pool(runId, 1)))).toEqual([
      { id: 'q-0', prompt: 'prompt q-0', response: 'g1-0', reward: 0.75 },
      { id: 'q-6', prompt: 'prompt q-6', response: 'g0-6', reward: 0.7 },
      { id: 'q-7', prompt: 'prompt q-7', response: 'g1-7', reward: 0.95 },
    ]);
    const working = parse(await readText(env.s3, env.bucket, synthesisKeys.working(runId, 1)));
    expect(working.map((w) => w.chosen)).toEqual(['g1-0', 'g0-1', 'g1-2', 'g0-3', 'g0-4', 'g0-5', 'g1-6', 'g1-7']);
    expect(working[2]).toEqual({ id: 'q-2', prompt: 'prompt q-2', chosen: 'g1-2', rejected: 'b1-2', reward: 0.5 });

    for (const key of [synthesisKeys.pool(runId, 1), synthesisKeys.working(runId, 1)]) {
      const head = await env.s3.send(new HeadObjectCommand({ Bucket: env.bucket, Key: key }));
      expect(head.ServerSideEncryption).toBe('aws:kms');
      expect(head.SSEKMSKeyId).toBe(env.keyArn);
    }

    // Round 2 chains from round 1: τ is now 0.7 again (g0-6), and nothing clears it.
    await putText(
      env.s3,
      env.bucket,
      synthesisKeys.scores(runId, 2),
      jsonl([query('q-1', ['g2-1', 0.3], ['b2-1', 0])]),
      'application/x-ndjson',
      env.keyArn,
    );
    expect(await createGate(deps())({ runId, round: 2, run: quarter })).toMatchObject({
      threshold: 0.7,
      added: 0,
      replaced: 0,
      poolSize: 3,
    });
  });

  it('fails when the previous round is missing and leaves round r absent', async () => {
    const runId = 'gate-missing-00000001';
    await putText(
      env.s3,
      env.bucket,
      synthesisKeys.scores(runId, 1),
      jsonl([query('q-0', ['g', 1], ['b', 0])]),
      'application/x-ndjson',
      env.keyArn,
    );
    await expect(createGate(deps())({ runId, round: 1, run: runState(runId, 1) })).rejects.toMatchObject({
      name: 'NoSuchKey',
    });
    expect(await objectExists(env.s3, env.bucket, synthesisKeys.pool(runId, 1))).toBe(false);
    expect(await objectExists(env.s3, env.bucket, synthesisKeys.working(runId, 1))).toBe(false);
  });

  it('refuses round 0, which is the filter’s', async () => {
    await expect(createGate(deps())({ runId: 'r-0', round: 0, run: runState('r-0', 1) })).rejects.toThrow(
      /gate: invalid input: round: /,
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../core/jsonl/index.js';
import { keepCount, type PoolRecord, type WorkingRecord } from '../../../core/selection/index.js';
import { runFilter, runGate, scoresFile, type ScoresLine } from '../../helpers/selection-fixtures.js';
import { jsonl, parseJsonl } from '../../helpers/memory-io.js';

const options = { method: 'reward' as const, alpha: 0.5 };

const pool0: PoolRecord[] = [
  { id: 'q-a', prompt: 'pa', response: 'a0', reward: 0.5 },
  { id: 'q-c', prompt: 'pc', response: 'c0', reward: 0.8 },
];
const working0: WorkingRecord[] = [
  { id: 'q-a', prompt: 'pa', chosen: 'a0', rejected: 'a0-', reward: 0.5 },
  { id: 'q-b', prompt: 'pb', chosen: 'b0', rejected: 'b0-', reward: 0.2 },
  { id: 'q-c', prompt: 'pc', chosen: 'c0', rejected: 'c0-', reward: 0.8 },
  { id: 'q-d', prompt: 'pd', chosen: 'd0', rejected: 'd0-', reward: 0.1 },
  { id: 'q-e', prompt: 'pe', chosen: 'e0', rejected: 'e0-', reward: 0.3 },
];
const refined = (id: string, best: [string, number], worst: [string, number]): ScoresLine => ({
  id,
  prompt: `p${id.slice(2)}`,
  candidates: [
    { text: worst[0], reward: worst[1], ppl: 9 },
    { text: best[0], reward: best[1], ppl: 1 },
  ],
});

describe('gateRound: worked example', () => {
  it('admits refined items at or above τ, replaces only with higher rewards, and updates W', async () => {
    // τ = 0.5 (lowest pool reward).
    const scores = [
      refined('q-a', ['a1', 0.4], ['a1-', 0.0]), // pooled, lower reward: pool keeps a0, W takes a1
      refined('q-b', ['b1', 0.5], ['b1-', 0.1]), // exactly τ: joins
      refined('q-c', ['c1', 0.9], ['c1-', 0.2]), // pooled, higher: replaces
      refined('q-d', ['d1', 0.49], ['d1-', 0.1]), // below τ: stays out
    ]; // q-e not refined this round: unchanged everywhere
    const { summary, pool, working } = await runGate({ scores, pool: jsonl(pool0), working: jsonl(working0) }, options);
    expect(parseJsonl<PoolRecord>(pool)).toEqual([
      { id: 'q-a', prompt: 'pa', response: 'a0', reward: 0.5 },
      { id: 'q-b', prompt: 'pb', response: 'b1', reward: 0.5 },
      { id: 'q-c', prompt: 'pc', response: 'c1', reward: 0.9 },
    ]);
    expect(parseJsonl<WorkingRecord>(working)).toEqual([
      { id: 'q-a', prompt: 'pa', chosen: 'a1', rejected: 'a1-', reward: 0.4 },
      { id: 'q-b', prompt: 'pb', chosen: 'b1', rejected: 'b1-', reward: 0.5 },
      { id: 'q-c', prompt: 'pc', chosen: 'c1', rejected: 'c1-', reward: 0.9 },
      { id: 'q-d', prompt: 'pd', chosen: 'd1', rejected: 'd1-', reward: 0.49 },
      working0[4],
    ]);
    expect(summary).toMatchObject({ refined: 4, threshold: 0.5, added: 1, replaced: 1, poolSize: 3, workingSize: 5 });
  });

  it('keeps the pooled entry when a refined version ties its reward (replacement needs strictly higher)', async () => {
    // τ = 0.5; q-c is pooled at 0.8 and its refined version scores exactly 0.8.
    const scores = [refined('q-c', ['c1', 0.8], ['c1-', 0.1])];
    const { summary, pool, working } = await runGate({ scores, pool: jsonl(pool0), working: jsonl(working0) }, options);
    expect(parseJsonl<PoolRecord>(pool)).toEqual(pool0);
    expect(parseJsonl<WorkingRecord>(working)[2]).toEqual({
      id: 'q-c',
      prompt: 'pc',
      chosen: 'c1',
      rejected: 'c1-',
      reward: 0.8,
    });
    expect(summary).toMatchObject({ refined: 1, added: 0, replaced: 0, poolSize: 2 });
  });

  it('summarizes the refined rewards and the new pool', async () => {
    const scores = [
      refined('q-a', ['a1', 0.4], ['a1-', 0.0]),
      refined('q-b', ['b1', 0.5], ['b1-', 0.1]),
      refined('q-c', ['c1', 0.9], ['c1-', 0.2]),
      refined('q-d', ['d1', 0.49], ['d1-', 0.1]),
    ];
    const { summary } = await runGate({ scores, pool: jsonl(pool0), working: jsonl(working0) }, options);
    expect(summary.reward.refined).toMatchObject({ count: 4, min: 0.4, max: 0.9 });
    expect(summary.reward.refined.mean).toBeCloseTo(2.29 / 4, 12);
    expect(summary.reward.pool).toMatchObject({ count: 3, min: 0.5, max: 0.9 });
    expect(summary.reward.pool.mean).toBeCloseTo(1.9 / 3, 12);
  });

  it('refuses a pooled id that is not in W, naming the pool line', async () => {
    const pool = jsonl([...pool0, { id: 'q-z', prompt: 'pz', response: 'z0', reward: 0.7 }]);
    const error = await runGate(
      { scores: [refined('q-a', ['a1', 0.9], ['x', 0])], pool, working: jsonl(working0) },
      options,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe(
      'pool/round-0.jsonl:3:id: not in working/round-0.jsonl, or out of its order',
    );
  });

  it('refuses a refined id that is not in W (or out of its order), naming the line', async () => {
    const scores = [refined('q-c', ['c1', 0.9], ['x', 0]), refined('q-a', ['a1', 0.9], ['x', 0])];
    const error = await runGate({ scores, pool: jsonl(pool0), working: jsonl(working0) }, options).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe(
      'scores/round-1.jsonl:2:id: not in working/round-0.jsonl, or out of its order',
    );
  });

  it('refuses an empty previous pool and a malformed working line', async () => {
    const empty = await runGate({ scores: [], pool: '', working: jsonl(working0) }, options).catch((e: unknown) => e);
    expect((empty as Error).message).toBe('pool/round-0.jsonl: no records: the file is empty');
    const bad = `${jsonl(working0.slice(0, 2))}${JSON.stringify({ ...working0[2], reward: 'high' })}\n`;
    const error = await runGate(
      { scores: [refined('q-a', ['a1', 0.9], ['x', 0])], pool: jsonl(pool0), working: bad },
      options,
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe('working/round-0.jsonl:3:reward: not a number');
  });
});

describe('gateRound: properties', () => {
  it('never lowers a pooled reward, never admits below τ, keeps one entry per id, and reruns byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        scoresFile(25),
        fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
        scoresFile(25),
        async (lines, refineMask, fresh) => {
          fc.pre(keepCount(lines.length, 0.25) >= 1);
          const round0 = await runFilter(lines, { ...options, keepFraction: 0.25, seed: 0 });
          // Refine a subset of W, in W's order, with fresh candidates.
          const scores = lines.flatMap((line, i) =>
            refineMask[i] ? [{ ...line, candidates: fresh[i % fresh.length]!.candidates }] : [],
          );
          fc.pre(scores.length > 0);
          const before = parseJsonl<PoolRecord>(round0.pool);
          const tau = Math.min(...before.map((p) => p.reward));
          const input = { scores, pool: round0.pool, working: round0.working };
          const { summary, pool, working } = await runGate(input, options);
          const after = parseJsonl<PoolRecord>(pool);
          const afterById = new Map(after.map((p) => [p.id, p]));
          expect(afterById.size).toBe(after.length);
          for (const p of before) expect(afterById.get(p.id)!.reward).toBeGreaterThanOrEqual(p.reward);
          const beforeById = new Map(before.map((p) => [p.id, p]));
          for (const p of after) {
            const old = beforeById.get(p.id);
            if (!old || old.response !== p.response || old.reward !== p.reward)
              expect(p.reward).toBeGreaterThanOrEqual(tau);
          }
          expect(summary.threshold).toBe(tau);
          expect(after.length).toBe(before.length + summary.added);
          // W keeps every id in order; refined ids carry this round's reward.
          const w = parseJsonl<WorkingRecord>(working);
          expect(w.map((x) => x.id)).toEqual(lines.map((l) => l.id));
          const again = await runGate(input, options);
          expect(again.pool).toBe(pool);
          expect(again.working).toBe(working);
        },
      ),
      { numRuns: 120 },
    );
  });
});

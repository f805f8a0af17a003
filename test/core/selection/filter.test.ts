import fc from 'fast-check';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../core/jsonl/index.js';
import {
  filterScores,
  keepCount,
  chooseByFusedRank,
  type PoolRecord,
  type WorkingRecord,
} from '../../../core/selection/index.js';
import { runFilter, scoresFile, type ScoresLine } from '../../helpers/selection-fixtures.js';
import { jsonl, memorySink, memorySource, parseJsonl } from '../../helpers/memory-io.js';

const defaults = { method: 'reward' as const, alpha: 0.5, keepFraction: 0.5, seed: 7 };

const q = (id: string, ...candidates: [string, number, number][]): ScoresLine => ({
  id,
  prompt: `prompt of ${id}`,
  candidates: candidates.map(([text, reward, ppl]) => ({ text, reward, ppl })),
});

describe('filterScores: worked examples', () => {
  // Each query: the fused-rank winner is the highest reward with the lowest perplexity.
  const lines = [
    q('q-a', ['a-bad', 0.1, 9], ['a-good', 0.6, 2]),
    q('q-b', ['b-bad', 0.2, 9], ['b-good', 0.9, 2]),
    q('q-c', ['c-bad', 0.0, 9], ['c-good', 0.6, 2]),
    q('q-d', ['d-bad', 0.3, 9], ['d-good', 0.4, 2]),
  ];

  it('re-reads a working set that arrives as text chunks the same as one that arrives as bytes', async () => {
    // A Node stream of strings (an adapter that decodes) yields strings, not Buffers; a line,
    // and a two-byte character, may straddle two chunks.
    const withAccent = [...lines, q('q-é', ['é-bad', 0.0, 9], ['é-good', 0.8, 2])];
    const expected = await runFilter(withAccent, defaults);
    const working = memorySink();
    const pool = memorySink();
    await filterScores(
      {
        scores: memorySource('scores.jsonl', jsonl(withAccent)),
        working,
        pool,
        reopenWorking: async () => {
          const text = working.text();
          const pieces = [];
          for (let at = 0; at < text.length; at += 11) pieces.push(text.slice(at, at + 11));
          return Readable.from(pieces);
        },
      },
      defaults,
    );
    expect(pool.text()).toBe(expected.pool);
    expect(parseJsonl<PoolRecord>(pool.text()).map((r) => r.id)).toEqual(['q-b', 'q-é']);
  });

  it('writes every query to W and the top ⌊M·f⌋ by chosen reward to the pool, ties in input order', async () => {
    const { summary, working, pool } = await runFilter(lines, defaults);
    expect(parseJsonl<WorkingRecord>(working)).toEqual([
      { id: 'q-a', prompt: 'prompt of q-a', chosen: 'a-good', rejected: 'a-bad', reward: 0.6 },
      { id: 'q-b', prompt: 'prompt of q-b', chosen: 'b-good', rejected: 'b-bad', reward: 0.9 },
      { id: 'q-c', prompt: 'prompt of q-c', chosen: 'c-good', rejected: 'c-bad', reward: 0.6 },
      { id: 'q-d', prompt: 'prompt of q-d', chosen: 'd-good', rejected: 'd-bad', reward: 0.4 },
    ]);
    // Scores 0.6, 0.9, 0.6, 0.4; k = 2: q-b, then q-a over q-c (same score, earlier line). Pool in input order.
    expect(parseJsonl<PoolRecord>(pool)).toEqual([
      { id: 'q-a', prompt: 'prompt of q-a', response: 'a-good', reward: 0.6 },
      { id: 'q-b', prompt: 'prompt of q-b', response: 'b-good', reward: 0.9 },
    ]);
    expect(summary).toMatchObject({
      queries: 4,
      candidates: 8,
      poolSize: 2,
      workingSize: 4,
      threshold: 0.6,
      method: 'reward',
    });
    expect(summary.reward.pool).toEqual({ count: 2, mean: 0.75, min: 0.6, max: 0.9 });
  });

  it('summarizes every reward it saw: candidates, working set and pool, and keeps alpha outside ppl', async () => {
    const { summary } = await runFilter(lines, { ...defaults, alpha: 0.25 });
    expect(summary.alpha).toBe(0.25);
    expect(summary.reward.candidates).toMatchObject({ count: 8, min: 0, max: 0.9 });
    expect(summary.reward.candidates.mean).toBeCloseTo(3.1 / 8, 12);
    expect(summary.reward.working).toMatchObject({ count: 4, min: 0.4, max: 0.9 });
    expect(summary.reward.working.mean).toBeCloseTo(2.5 / 4, 12);
  });

  it('keeps every score past the first 1,024 queries (the score list grows)', async () => {
    // Rewards rise with the line, so the pool is the last ⌊M·f⌋ queries.
    const many = Array.from({ length: 2100 }, (_, i) =>
      q(`q-${String(i).padStart(4, '0')}`, ['bad', -1, 9], ['good', i / 2100, 2]),
    );
    const { summary, pool } = await runFilter(many, { ...defaults, keepFraction: 0.1 });
    const pooled = parseJsonl<PoolRecord>(pool);
    expect(pooled.map((p) => p.id)).toEqual(many.slice(-210).map((l) => l.id));
    expect(summary).toMatchObject({ queries: 2100, poolSize: 210, threshold: 1890 / 2100 });
  });

  it('ppl ranks by perplexity alone, whatever alpha says', async () => {
    const ppl = [q('q-x', ['low-ppl-low-reward', 0.1, 1], ['high-ppl-high-reward', 0.9, 8])];
    const { working, summary } = await runFilter(ppl, { ...defaults, method: 'ppl', alpha: 1, keepFraction: 1 });
    expect(parseJsonl<WorkingRecord>(working)[0]).toMatchObject({
      chosen: 'low-ppl-low-reward',
      rejected: 'high-ppl-high-reward',
      reward: 0.1,
    });
    expect(summary.alpha).toBe(0);
  });

  it('none takes the first candidate and a seeded random pool that a rerun repeats', async () => {
    const many = Array.from({ length: 40 }, (_, i) => q(`q-${i}`, [`first-${i}`, i / 40, 3], [`second-${i}`, 1, 1]));
    const first = await runFilter(many, { ...defaults, method: 'none', keepFraction: 0.25 });
    const again = await runFilter(many, { ...defaults, method: 'none', keepFraction: 0.25 });
    expect(again.pool).toBe(first.pool);
    const pool = parseJsonl<PoolRecord>(first.pool);
    expect(pool).toHaveLength(10);
    for (const item of pool) expect(item.response).toMatch(/^first-/);
    expect(parseJsonl<WorkingRecord>(first.working)[0]).toMatchObject({ chosen: 'first-0', rejected: 'second-0' });
    // Not the top-by-reward pool (the last ten), and another seed draws another pool.
    expect(pool.map((p) => p.id)).not.toEqual(many.slice(30).map((m) => m.id));
    const pools = new Set<string>();
    for (let seed = 0; seed < 5; seed += 1)
      pools.add((await runFilter(many, { ...defaults, method: 'none', keepFraction: 0.25, seed })).pool);
    expect(pools.size).toBeGreaterThan(1);
  });

  it('rouge-l keeps the queries whose best candidate agrees most with the seeds', async () => {
    const lines = [
      q('q-1', ['unrelated words here', 0.9, 1], ['aspirin dose daily', 0.0, 1]),
      q('q-2', ['nothing matches', 0.9, 1], ['still nothing', 0.9, 1]),
    ];
    const { pool, working, summary } = await runFilter(lines, {
      ...defaults,
      method: 'rouge-l',
      seedPrompts: ['What is the aspirin dose?'],
    });
    expect(parseJsonl<WorkingRecord>(working)[0]).toMatchObject({
      chosen: 'aspirin dose daily',
      rejected: 'unrelated words here',
      reward: 0,
    });
    // q-1's best mean ROUGE-L: LCS 2 of 3 and 5 tokens → F = 2·(2/3·2/5)/(2/3+2/5) = 0.5; q-2 scores 0.
    expect(parseJsonl<PoolRecord>(pool).map((p) => p.id)).toEqual(['q-1']);
    expect(summary.threshold).toBe(0);
  });
});

describe('filterScores: properties', () => {
  const fraction = fc.oneof(fc.constantFrom(1 / 8, 0.25, 0.5, 1), fc.double({ min: 0.01, max: 1, noNaN: true }));
  const method = fc.constantFrom('reward' as const, 'ppl' as const, 'none' as const, 'rouge-l' as const);

  it('pools ⌊M·f⌋ queries, each W’s own chosen, the best-scored ones, and reruns byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        scoresFile(),
        fraction,
        method,
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (lines, f, m, alpha) => {
          fc.pre(keepCount(lines.length, f) >= 1);
          const options = { method: m, alpha, keepFraction: f, seed: 3 };
          const first = await runFilter(lines, options);
          const working = parseJsonl<WorkingRecord>(first.working);
          const pool = parseJsonl<PoolRecord>(first.pool);
          expect(working.map((w) => w.id)).toEqual(lines.map((l) => l.id));
          expect(pool).toHaveLength(Math.floor(lines.length * f + 1e-9));
          const byId = new Map(working.map((w) => [w.id, w]));
          for (const item of pool) {
            const w = byId.get(item.id)!;
            expect(item).toEqual({ id: w.id, prompt: w.prompt, response: w.chosen, reward: w.reward });
          }
          // Pool in input order.
          const positions = pool.map((p) => lines.findIndex((l) => l.id === p.id));
          expect([...positions].sort((a, b) => a - b)).toEqual(positions);
          if (m === 'reward' || m === 'ppl') {
            const pooled = new Set(pool.map((p) => p.id));
            const lowestIn = Math.min(...pool.map((p) => p.reward));
            for (const w of working) if (!pooled.has(w.id)) expect(w.reward).toBeLessThanOrEqual(lowestIn);
            // Ties at the cut go to the earlier line.
            const lastTiedIn = Math.max(
              ...working.flatMap((w, i) => (pooled.has(w.id) && w.reward === lowestIn ? [i] : [])),
            );
            working.forEach((w, i) => {
              if (!pooled.has(w.id) && w.reward === lowestIn) expect(i).toBeGreaterThan(lastTiedIn);
            });
            expect(first.summary.threshold).toBe(lowestIn);
            // And each chosen is the step-8 choice.
            lines.forEach((line, i) => {
              const choice = chooseByFusedRank(line.candidates, m === 'ppl' ? 0 : alpha);
              expect(working[i]!.chosen).toBe(line.candidates[choice.chosen]!.text);
            });
          }
          for (const [i, w] of working.entries()) {
            if (new Set(lines[i]!.candidates.map((c) => c.text)).size >= 2) expect(w.chosen).not.toBe(w.rejected);
          }
          const again = await runFilter(lines, options);
          expect(again.working).toBe(first.working);
          expect(again.pool).toBe(first.pool);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('filterScores: bad input', () => {
  const good = JSON.stringify(q('q-ok', ['fine', 0.5, 2]));
  const secret = 'PATIENT-SECRET-TEXT';

  async function failure(text: string, keepFraction = 1): Promise<InputError> {
    const working = memorySink();
    const pool = memorySink();
    try {
      await filterScores(
        { scores: memorySource('scores.jsonl', text), working, pool, reopenWorking: async () => Readable.from([]) },
        { ...defaults, keepFraction },
      );
    } catch (error) {
      expect(working.state()).toBe('aborted');
      expect(pool.state()).toBe('aborted');
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).not.toContain(secret);
      return error as InputError;
    }
    throw new Error('filter accepted bad input');
  }

  const line2 = (record: unknown) => `${good}\n${typeof record === 'string' ? record : JSON.stringify(record)}\n`;
  const cand = (extra: Record<string, unknown>) => ({
    id: 'q-2',
    prompt: secret,
    candidates: [{ text: secret, reward: 1, ppl: 2, ...extra }],
  });

  it.each([
    ['a line that is not JSON', `{"id": "q-2", "prompt": "${secret}", `, undefined, /not JSON/],
    ['a missing candidates field', { id: 'q-2', prompt: secret }, 'candidates', /missing/],
    ['no candidates', { id: 'q-2', prompt: secret, candidates: [] }, 'candidates', /no candidates/],
    ['a missing perplexity', cand({ ppl: undefined }), 'candidates[0].ppl', /missing/],
    ['a reward written as "NaN"', cand({ reward: 'NaN' }), 'candidates[0].reward', /not a number/],
    [
      "Python's bare NaN (json.dumps allow_nan)",
      `{"id": "q-2", "prompt": "${secret}", "candidates": [{"text": "x", "reward": NaN, "ppl": 2}]}`,
      undefined,
      /not JSON/,
    ],
    [
      'an infinite reward (1e999)',
      `{"id":"q-2","prompt":"${secret}","candidates":[{"text":"${secret}","reward":1e999,"ppl":2}]}`,
      'candidates[0].reward',
      /finite/,
    ],
    [
      'an infinite perplexity',
      `{"id":"q-2","prompt":"x","candidates":[{"text":"y","reward":0,"ppl":-1e999}]}`,
      'candidates[0].ppl',
      /finite/,
    ],
    ['a text that is not a string', cand({ text: 3 }), 'candidates[0].text', /not a string/],
    ['a missing id', { prompt: secret, candidates: [] }, 'id', /missing/],
    ['a repeated id', { ...q('q-ok', ['again', 1, 1]), prompt: secret }, 'id', /duplicate/],
    ['an array instead of an object', '[1, 2]', undefined, /not a JSON object/],
  ])('refuses %s with file, line and field', async (_, record, field, reason) => {
    const error = await failure(line2(record));
    expect(error.file).toBe('scores.jsonl');
    expect(error.line).toBe(2);
    expect(error.field).toBe(field);
    expect(error.reason).toMatch(reason);
    expect(error.message.startsWith(`scores.jsonl:2${field ? `:${field}` : ''}: `)).toBe(true);
  });

  it('refuses an empty file', async () => {
    const error = await failure('\n\n');
    expect(error.message).toBe('scores.jsonl: no records: the file is empty');
  });

  it('refuses a pool that would be empty', async () => {
    const error = await failure(`${good}\n`, 0.5);
    expect(error.message).toMatch(/pool would be empty: 1 queries × keepFraction 0.5/);
  });
});

describe('keepCount', () => {
  it('floors M·f, forgiving binary rounding just below an integer', () => {
    expect(keepCount(166_667, 1 / 8)).toBe(20_833);
    expect(keepCount(100, 0.29)).toBe(29);
    expect(keepCount(7, 1 / 8)).toBe(0);
  });
});

// Keep the helper honest: a test file serialised by jsonl() parses back to the same lines.
it('jsonl fixtures round-trip', () => {
  const lines = [q('q-1', ['t', 1, 1])];
  expect(parseJsonl(jsonl(lines))).toEqual(lines);
});

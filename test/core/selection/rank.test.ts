import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chooseByFusedRank,
  chooseByRougeL,
  chooseFirst,
  chooserFor,
  type FilterMethod,
  fusedRanks,
  perplexityRanks,
  rewardRanks,
  type ScoredCandidate,
} from '../../../core/selection/index.js';

const c = (text: string, reward: number, ppl: number): ScoredCandidate => ({ text, reward, ppl });

describe('ranks', () => {
  it('ranks reward ascending and perplexity descending, equal values in candidate order', () => {
    const cands = [c('a', 0.5, 3), c('b', 0.1, 3), c('c', 0.5, 9), c('d', 0.9, 1)];
    expect(rewardRanks(cands)).toEqual([2, 1, 3, 4]);
    // ppl 9 is the highest → rank 1; the two 3s keep candidate order; 1 is last.
    expect(perplexityRanks(cands)).toEqual([2, 3, 1, 4]);
    expect(fusedRanks(cands, 0.5)).toEqual([2, 2, 2, 4]);
  });
});

describe('chooseByFusedRank (step 8)', () => {
  it('picks the highest and lowest fused rank', () => {
    // rank_r = [1,2,3], rank_p = [1,2,3] (ppl 9 > 5 > 2): fused = [1,2,3].
    const cands = [c('low', 0.1, 9), c('mid', 0.2, 5), c('high', 0.3, 2)];
    expect(chooseByFusedRank(cands, 0.5)).toEqual({ chosen: 2, rejected: 0, score: 0.3 });
  });

  it('breaks a fused tie for chosen by the higher reward, for rejected by the lower reward', () => {
    // rank_r = [1,2,3]; ppl [1,5,9] → rank_p = [3,2,1]; fused at α=0.5 = [2,2,2].
    const cands = [c('a', 0.1, 1), c('b', 0.2, 5), c('c', 0.3, 9)];
    expect(fusedRanks(cands, 0.5)).toEqual([2, 2, 2]);
    expect(chooseByFusedRank(cands, 0.5)).toEqual({ chosen: 2, rejected: 0, score: 0.3 });
  });

  it('breaks a fused tie for rejected by the lower reward wherever it stands', () => {
    // rank_r = [3,2,1]; ppl [9,5,1] → rank_p = [1,2,3]; fused at α=0.5 = [2,2,2].
    const cands = [c('a', 0.3, 9), c('b', 0.2, 5), c('c', 0.1, 1)];
    expect(chooseByFusedRank(cands, 0.5)).toEqual({ chosen: 0, rejected: 2, score: 0.3 });
  });

  it('chooserFor dispatches each method to its own rule', () => {
    // Reward favours 'r', perplexity favours 'p'; 'none' takes the first; 'rouge-l' (no seeds)
    // the one most like the others: 'r x' and 'p x' share a word, the first shares none.
    const cands = [c('first', 0.2, 5), c('r x', 0.9, 9), c('p x', 0.1, 1)];
    const pick = (method: FilterMethod) => chooserFor({ method, alpha: 1 })(cands).chosen;
    expect([pick('reward'), pick('ppl'), pick('none'), pick('rouge-l')]).toEqual([1, 2, 0, 1]);
  });

  it('breaks a full tie (fused and reward) by the lower candidate index', () => {
    // Equal rewards: rank_r = [1,2,3,4] by order; ppl ascending → rank_p = [4,3,2,1]; fused all 2.5.
    const cands = [c('a', 1, 1), c('b', 1, 2), c('c', 1, 3), c('d', 1, 4)];
    const choice = chooseByFusedRank(cands, 0.5);
    expect(choice.chosen).toBe(0);
    // Rejected would also be index 0 by the rule; it is taken among texts unlike the chosen's.
    expect(choice.rejected).toBe(1);
  });

  it('treats fused ranks equal up to rounding as a tie', () => {
    // α = 0.2, rank_r = [1..6], rank_p = [1,6,2,3,4,5]: candidates 1 and 5 both fuse to 5.2
    // exactly, but in floating point 0.2·2 + 0.8·6 = 5.200000000000001 > 0.2·6 + 0.8·5 = 5.2.
    const ppl = [9, 4, 8, 7, 6, 5];
    const cands = ppl.map((p, i) => c(`t${i}`, (i + 1) / 10, p));
    expect(fusedRanks(cands, 0.2)[1]).toBeGreaterThan(fusedRanks(cands, 0.2)[5]!);
    // The tie goes to the higher reward: candidate 5, not 1.
    expect(chooseByFusedRank(cands, 0.2).chosen).toBe(5);
  });

  it('keeps rejected = chosen when every candidate has the same text', () => {
    expect(chooseByFusedRank([c('same', 0.1, 2), c('same', 0.9, 1)], 0.5)).toMatchObject({ chosen: 1, rejected: 1 });
    expect(chooseByFusedRank([c('only', 0.4, 2)], 0.5)).toEqual({ chosen: 0, rejected: 0, score: 0.4 });
  });

  const candidates = fc.array(
    fc.record({
      text: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
      reward: fc.integer({ min: -3, max: 3 }).map((n) => n / 2),
      ppl: fc.integer({ min: 1, max: 6 }),
    }),
    { minLength: 1, maxLength: 8 },
  );

  it('with α = 1 orders by reward alone', () => {
    fc.assert(
      fc.property(candidates, (cands) => {
        const fused = fusedRanks(cands, 1);
        for (let i = 0; i < cands.length; i += 1)
          for (let j = 0; j < cands.length; j += 1)
            if (cands[i]!.reward < cands[j]!.reward) expect(fused[i]!).toBeLessThan(fused[j]!);
        const { chosen, rejected } = chooseByFusedRank(cands, 1);
        const rewards = cands.map((x) => x.reward);
        expect(cands[chosen]!.reward).toBe(Math.max(...rewards));
        const others = cands.filter((x) => x.text !== cands[chosen]!.text);
        if (others.length > 0) expect(cands[rejected]!.reward).toBe(Math.min(...others.map((x) => x.reward)));
      }),
    );
  });

  it('with α = 0 orders by perplexity alone (lowest perplexity chosen)', () => {
    fc.assert(
      fc.property(candidates, (cands) => {
        const fused = fusedRanks(cands, 0);
        for (let i = 0; i < cands.length; i += 1)
          for (let j = 0; j < cands.length; j += 1)
            if (cands[i]!.ppl > cands[j]!.ppl) expect(fused[i]!).toBeLessThan(fused[j]!);
        const { chosen, rejected } = chooseByFusedRank(cands, 0);
        expect(cands[chosen]!.ppl).toBe(Math.min(...cands.map((x) => x.ppl)));
        const others = cands.filter((x) => x.text !== cands[chosen]!.text);
        if (others.length > 0) expect(cands[rejected]!.ppl).toBe(Math.max(...others.map((x) => x.ppl)));
      }),
    );
  });

  it('never returns the same text as chosen and rejected when two texts differ', () => {
    fc.assert(
      fc.property(candidates, fc.double({ min: 0, max: 1, noNaN: true }), (cands, alpha) => {
        const distinct = new Set(cands.map((x) => x.text)).size;
        for (const choice of [chooseByFusedRank(cands, alpha), chooseFirst(cands), chooseByRougeL(cands)]) {
          if (distinct >= 2) expect(cands[choice.chosen]!.text).not.toBe(cands[choice.rejected]!.text);
        }
      }),
    );
  });
});

describe('baselines', () => {
  it('none: chosen is the first candidate, rejected the last one with another text', () => {
    const cands = [c('x', 0.1, 1), c('y', 0.9, 1), c('x', 0.5, 1)];
    expect(chooseFirst(cands)).toEqual({ chosen: 0, rejected: 1, score: 0.1 });
  });

  it('rouge-l without seeds: chosen is the candidate closest to its siblings', () => {
    // "the cat sat" shares most with both others; "dogs bark loudly" shares nothing.
    const cands = [
      c('dogs bark loudly', 9, 1),
      c('The cat sat.', 0, 1),
      c('the cat sat down', 0, 1),
      c('a cat sat', 0, 1),
    ];
    const choice = chooseByRougeL(cands);
    // Candidate 1 vs its siblings: 0, 6/7 (LCS 3, P 1, R 3/4), 2/3 (LCS 2, P = R = 2/3).
    expect(choice.chosen).toBe(1);
    expect(choice.rejected).toBe(0);
    expect(choice.score).toBeCloseTo((0 + 6 / 7 + 2 / 3) / 3, 12);
  });

  it('rouge-l: rejected is the candidate farthest from the rest wherever it stands; no seeds = siblings', () => {
    const cands = [
      c('The cat sat.', 0, 1),
      c('the cat sat down', 0, 1),
      c('a cat sat', 0, 1),
      c('dogs bark loudly', 9, 1),
    ];
    expect(chooseByRougeL(cands)).toMatchObject({ chosen: 0, rejected: 3 });
    // An empty seed list means no seeds, not "every candidate scores 0".
    expect(chooseByRougeL(cands, [])).toEqual(chooseByRougeL(cands));
    expect(chooseByRougeL(cands.slice().reverse(), [])).toMatchObject({ chosen: 3, rejected: 0 });
  });

  it('rouge-l with seeds: compares with the seed prompts, not the siblings', () => {
    const seeds = [
      ['what', 'dose', 'of', 'aspirin'],
      ['aspirin', 'dose'],
    ];
    const cands = [c('the cat sat', 5, 1), c('the aspirin dose is 81 mg', 0, 1)];
    const choice = chooseByRougeL(cands, seeds);
    expect(choice.chosen).toBe(1);
    // Candidate 1 has 6 tokens. Seed 1: LCS 1 (P 1/6, R 1/4, F 0.2); seed 2: LCS 2
    // (P 1/3, R 1, F 0.5). Mean 0.35.
    expect(choice.score).toBeCloseTo(0.35, 12);
  });
});

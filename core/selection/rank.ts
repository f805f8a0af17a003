/**
 * Per-query choice of a chosen and a rejected candidate (docs/selection.md#per-query-chosen-and-rejected, and the
 * baselines). Pure functions of one query's candidates; no I/O.
 */
import { meanRougeL, tokenize } from './rouge.js';

export interface ScoredCandidate {
  text: string;
  reward: number;
  ppl: number;
}

export type FilterMethod = 'reward' | 'ppl' | 'none' | 'rouge-l';

export interface PairChoice {
  /** Index of the chosen candidate. */
  chosen: number;
  /** Index of the rejected candidate (equals `chosen` only when every candidate has the same text). */
  rejected: number;
  /** What the pool is ranked by: the chosen's reward, or its mean ROUGE-L for `rouge-l`. */
  score: number;
}

/**
 * Fused ranks differ by integer combinations of α and 1−α, so two of them that are equal
 * in exact arithmetic may differ by rounding; anything closer than this is a tie.
 */
const FUSED_TIE = 1e-9;

/** 1-based ranks in the order a sort by `compare` gives; equal values keep candidate order (sort is stable). */
function stableRanks<T>(items: readonly T[], compare: (a: T, b: T) => number): number[] {
  const order = items.map((_, i) => i).sort((i, j) => compare(items[i]!, items[j]!));
  const ranks = new Array<number>(items.length);
  order.forEach((index, position) => {
    ranks[index] = position + 1;
  });
  return ranks;
}

/** Reward ascending: the lowest reward gets rank 1. */
export const rewardRanks = (candidates: readonly ScoredCandidate[]) =>
  stableRanks(candidates, (a, b) => a.reward - b.reward);

/** Perplexity descending: the highest perplexity gets rank 1. */
export const perplexityRanks = (candidates: readonly ScoredCandidate[]) =>
  stableRanks(candidates, (a, b) => b.ppl - a.ppl);

/** fused_i = α·rank_r(i) + (1−α)·rank_p(i). */
export function fusedRanks(candidates: readonly ScoredCandidate[], alpha: number): number[] {
  const byReward = rewardRanks(candidates);
  const byPerplexity = perplexityRanks(candidates);
  return candidates.map((_, i) => alpha * byReward[i]! + (1 - alpha) * byPerplexity[i]!);
}

const compareFused = (a: number, b: number) => (Math.abs(a - b) <= FUSED_TIE ? 0 : a - b);

/**
 * The index that `better` puts first, scanning in candidate order so that a full tie keeps
 * the lowest index. `eligible` narrows the field (used to keep rejected ≠ chosen).
 */
function best(
  count: number,
  better: (i: number, j: number) => number,
  eligible: (i: number) => boolean = () => true,
): number {
  let winner = -1;
  for (let i = 0; i < count; i += 1) {
    if (!eligible(i)) continue;
    if (winner < 0 || better(i, winner) < 0) winner = i;
  }
  return winner;
}

/**
 * Rejected is searched among candidates whose text differs from the chosen's, when any
 * does: a pair of identical texts teaches the refinement step nothing. This only changes
 * the outcome in degenerate cases (all fused ranks tied and all rewards equal, or
 * duplicate texts); otherwise the rule is exactly the method's.
 */
function rejectedAmong(
  candidates: readonly ScoredCandidate[],
  chosen: number,
  better: (i: number, j: number) => number,
): number {
  const chosenText = candidates[chosen]!.text;
  const differs = (i: number) => candidates[i]!.text !== chosenText;
  const rejected = best(candidates.length, better, differs);
  return rejected < 0 ? chosen : rejected;
}

/**
 * Step 8: chosen = highest fused rank (tie: higher reward, then lower index); rejected =
 * lowest fused rank (tie: lower reward, then lower index). α = 0 is the `ppl` baseline.
 */
export function chooseByFusedRank(candidates: readonly ScoredCandidate[], alpha: number): PairChoice {
  const fused = fusedRanks(candidates, alpha);
  const chosen = best(
    candidates.length,
    (i, j) => compareFused(fused[j]!, fused[i]!) || candidates[j]!.reward - candidates[i]!.reward,
  );
  const rejected = rejectedAmong(
    candidates,
    chosen,
    (i, j) => compareFused(fused[i]!, fused[j]!) || candidates[i]!.reward - candidates[j]!.reward,
  );
  return { chosen, rejected, score: candidates[chosen]!.reward };
}

/**
 * The `none` baseline: chosen = the first candidate; rejected = the last candidate whose
 * text differs from it (the sampler's order carries no quality signal, so "last" is as
 * arbitrary as "first" while staying deterministic). Its score is the chosen's reward,
 * reported only: the `none` pool is drawn at random, not ranked.
 */
export function chooseFirst(candidates: readonly ScoredCandidate[]): PairChoice {
  const firstText = candidates[0]!.text;
  let rejected = 0;
  for (let i = candidates.length - 1; i > 0; i -= 1) {
    if (candidates[i]!.text !== firstText) {
      rejected = i;
      break;
    }
  }
  return { chosen: 0, rejected, score: candidates[0]!.reward };
}

/**
 * The `rouge-l` baseline: each candidate's mean ROUGE-L to the references (the public
 * seed prompts, tokenized once by the caller), or to its sibling candidates when there
 * are no seeds. Chosen = highest mean (tie: lower index), rejected = lowest mean among
 * texts unlike the chosen (tie: lower index); score = the chosen's mean. Rewards are not
 * looked at: this baseline stands for selection without a reward model.
 */
export function chooseByRougeL(
  candidates: readonly ScoredCandidate[],
  seedTokens?: readonly (readonly string[])[],
): PairChoice {
  const tokens = candidates.map((c) => tokenize(c.text));
  const means = tokens.map((own, i) =>
    seedTokens && seedTokens.length > 0
      ? meanRougeL(own, seedTokens)
      : meanRougeL(
          own,
          tokens.filter((_, j) => j !== i),
        ),
  );
  const chosen = best(candidates.length, (i, j) => means[j]! - means[i]!);
  const rejected = rejectedAmong(candidates, chosen, (i, j) => means[i]! - means[j]!);
  return { chosen, rejected, score: means[chosen]! };
}

export interface ChooserOptions {
  method: FilterMethod;
  alpha: number;
  /** Tokenized public seed prompts, for `rouge-l`. */
  seedTokens?: readonly (readonly string[])[];
}

/** The per-query choice for a filter method. */
export function chooserFor(options: ChooserOptions): (candidates: readonly ScoredCandidate[]) => PairChoice {
  switch (options.method) {
    case 'reward':
      return (c) => chooseByFusedRank(c, options.alpha);
    case 'ppl':
      return (c) => chooseByFusedRank(c, 0);
    case 'none':
      return chooseFirst;
    case 'rouge-l':
      return (c) => chooseByRougeL(c, options.seedTokens);
  }
}

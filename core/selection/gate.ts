/**
 * The refinement gate (docs/selection.md#the-gate-round-r--1), round r ≥ 1:
 *   τ = the lowest reward in pool r−1;
 *   a refined query whose new chosen reward ≥ τ joins the pool, and a query already in
 *   the pool is replaced only by a strictly higher-reward version (one entry per id);
 *   W r = W r−1 with every refined query's pair replaced by its new pair.
 *
 * All three inputs list queries in working-set order (the filter writes them so, the
 * refine job keeps W's order, and this gate writes round r so again), which lets one
 * merged pass produce both outputs while holding only the current line of each file.
 * A refined or pooled id that is missing from W, or out of W's order, is an InputError.
 */
import { InputError, toJsonlLine } from '../jsonl/index.js';
import { chooserFor, type ChooserOptions } from './rank.js';
import {
  readPool,
  readScores,
  readWorking,
  type PoolRecord,
  type ScoredQuery,
  type Source,
  type WorkingRecord,
} from './records.js';
import { tokenize } from './rouge.js';
import { RunningSummary, type Summary } from './stats.js';
import type { TextSink } from './sinks.js';
import type { FilterMethod } from './rank.js';

export interface GateOptions {
  method: FilterMethod;
  alpha: number;
  seedPrompts?: readonly string[];
}

export interface GateIo {
  scores: Source;
  poolIn: Source;
  workingIn: Source;
  pool: TextSink;
  working: TextSink;
}

export interface GateSummary {
  method: FilterMethod;
  /** Queries refined and scored this round. */
  refined: number;
  /** The lowest reward in pool r−1. */
  threshold: number;
  /** Refined queries that entered the pool for the first time. */
  added: number;
  /** Pooled queries whose entry a higher-reward version replaced. */
  replaced: number;
  poolSize: number;
  workingSize: number;
  reward: { refined: Summary; pool: Summary };
}

/** Pulls from an async iterator one item ahead, for merge joins. */
class Lookahead<T> {
  private head: IteratorResult<T> | undefined;
  constructor(private readonly iterator: AsyncIterator<T>) {}
  async peek(): Promise<T | undefined> {
    this.head ??= await this.iterator.next();
    return this.head.done ? undefined : this.head.value;
  }
  take(): void {
    this.head = undefined;
  }
  /** Releases the underlying stream when the merge stops early. */
  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

/** τ: one streaming pass over the previous pool. */
export async function poolThreshold(poolIn: Source): Promise<number> {
  let threshold = Infinity;
  for await (const { record } of readPool(poolIn)) threshold = Math.min(threshold, record.reward);
  return threshold;
}

export async function gateRound(io: GateIo, options: GateOptions): Promise<GateSummary> {
  const chooserOptions: ChooserOptions = {
    method: options.method,
    alpha: options.alpha,
    seedTokens: options.seedPrompts?.map(tokenize),
  };
  const choose = chooserFor(chooserOptions);
  let refined = 0;
  let added = 0;
  let replaced = 0;
  let poolSize = 0;
  let workingSize = 0;
  const refinedRewards = new RunningSummary();
  const poolRewards = new RunningSummary();
  let threshold = Infinity;
  let scores: Lookahead<{ line: number; record: ScoredQuery }> | undefined;
  let pooled: Lookahead<{ line: number; record: PoolRecord }> | undefined;

  try {
    // readPool refuses an empty pool, so τ is always a real reward.
    threshold = await poolThreshold(io.poolIn);
    scores = new Lookahead<{ line: number; record: ScoredQuery }>(readScores(io.scores));
    pooled = new Lookahead<{ line: number; record: PoolRecord }>(readPool(io.poolIn));

    for await (const { record: previous } of readWorking(io.workingIn)) {
      let working: WorkingRecord = previous;
      let poolEntry: PoolRecord | undefined;

      const pooledHead = await pooled.peek();
      if (pooledHead?.record.id === previous.id) {
        poolEntry = pooledHead.record;
        pooled.take();
      }

      const scoredHead = await scores.peek();
      if (scoredHead?.record.id === previous.id) {
        scores.take();
        refined += 1;
        const query = scoredHead.record;
        const pair = choose(query.candidates);
        const chosen = query.candidates[pair.chosen]!;
        refinedRewards.add(chosen.reward);
        working = {
          id: query.id,
          prompt: query.prompt,
          chosen: chosen.text,
          rejected: query.candidates[pair.rejected]!.text,
          reward: chosen.reward,
        };
        if (chosen.reward >= threshold) {
          const candidate: PoolRecord = {
            id: query.id,
            prompt: query.prompt,
            response: chosen.text,
            reward: chosen.reward,
          };
          if (!poolEntry) {
            poolEntry = candidate;
            added += 1;
          } else if (chosen.reward > poolEntry.reward) {
            poolEntry = candidate;
            replaced += 1;
          }
        }
      }

      await io.working.write(toJsonlLine(working));
      workingSize += 1;
      if (poolEntry) {
        await io.pool.write(toJsonlLine(poolEntry));
        poolRewards.add(poolEntry.reward);
        poolSize += 1;
      }
    }

    const strayScore = await scores.peek();
    if (strayScore) {
      throw new InputError(io.scores.file, strayScore.line, 'id', `not in ${io.workingIn.file}, or out of its order`);
    }
    const strayPool = await pooled.peek();
    if (strayPool) {
      throw new InputError(io.poolIn.file, strayPool.line, 'id', `not in ${io.workingIn.file}, or out of its order`);
    }
    await io.working.done();
    await io.pool.done();
  } catch (error) {
    await Promise.allSettled([io.working.abort(), io.pool.abort(), scores?.close(), pooled?.close()]);
    throw error;
  }

  return {
    method: options.method,
    refined,
    threshold,
    added,
    replaced,
    poolSize,
    workingSize,
    reward: { refined: refinedRewards.toJSON(), pool: poolRewards.toJSON() },
  };
}

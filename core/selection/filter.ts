/**
 * Reward-Guided Filtering (docs/design.md#reward-guided-filtering, docs/selection.md) and
 * its baselines over a stream of scored queries. Two passes keep memory proportional to
 * the number of queries, never to the candidates' text:
 *   1. stream scores.jsonl; choose each query's pair and write it to the working set W
 *      at once, keeping only the query's score and reward;
 *   2. pick the pool's queries from those numbers, then re-read W (a fraction of the
 *      scores' size) and copy the picked lines into the pool.
 *
 * Output order: both files list queries in the order of scores.jsonl, so a rerun on the
 * same input writes identical bytes.
 */
import { InputError, toJsonlLine } from '../jsonl/index.js';
import { chooserFor, type FilterMethod } from './rank.js';
import { readScores, type PoolRecord, type Source, type WorkingRecord } from './records.js';
import { tokenize } from './rouge.js';
import { sampleIndices } from './seeded-random.js';
import { RunningSummary, type Summary } from './stats.js';
import type { TextSink } from './sinks.js';

export interface FilterOptions {
  method: FilterMethod;
  /** Weight of the reward rank in the fused rank (`reward` only). */
  alpha: number;
  /** f: the pool keeps ⌊M·f⌋ of the M queries. */
  keepFraction: number;
  /** Seeds the `none` baseline's random pool. */
  seed: number;
  /** Public seed prompts for `rouge-l`; without them each candidate is compared with its siblings. */
  seedPrompts?: readonly string[];
}

export interface FilterIo {
  scores: Source;
  working: TextSink;
  /** Opens W for reading once `working.done()` has resolved. */
  reopenWorking(): Promise<AsyncIterable<Uint8Array | string>>;
  pool: TextSink;
}

export interface FilterSummary {
  method: FilterMethod;
  alpha: number;
  keepFraction: number;
  queries: number;
  candidates: number;
  poolSize: number;
  workingSize: number;
  /** The lowest reward in the pool: the first refinement round's threshold τ. */
  threshold: number;
  reward: { candidates: Summary; working: Summary; pool: Summary };
}

/**
 * ⌊M·f⌋. Products within 1e-9 of the next integer count as that integer, so that e.g.
 * f = 0.29 keeps 29 of 100 queries although 100 × 0.29 is 28.999… in binary floating point.
 */
export function keepCount(queries: number, keepFraction: number): number {
  return Math.floor(queries * keepFraction + 1e-9);
}

/** Grows like an array but stores doubles unboxed: 8 bytes per query. */
class Float64List {
  private data = new Float64Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
  get(index: number): number {
    return this.data[index]!;
  }
}

/**
 * Marks the pool's queries: the top k by score (tie: input order), or for `none` a seeded
 * uniform sample of k.
 */
export function pickPool(
  scores: { length: number; get(i: number): number },
  k: number,
  method: FilterMethod,
  seed: number,
): Uint8Array {
  const picked = new Uint8Array(scores.length);
  if (method === 'none') {
    for (const index of sampleIndices(scores.length, k, seed)) picked[index] = 1;
    return picked;
  }
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i += 1) order[i] = i;
  order.sort((i, j) => scores.get(j) - scores.get(i) || i - j);
  for (let rank = 0; rank < k; rank += 1) picked[order[rank]!] = 1;
  return picked;
}

/**
 * Calls `onLine` for the picked lines of a JSONL stream and returns the line count. Scans
 * chunks for newlines itself rather than yielding every line, since seven lines in eight
 * are only counted.
 */
async function forPickedLines(
  stream: AsyncIterable<Uint8Array | string>,
  picked: Uint8Array,
  onLine: (index: number, line: Buffer) => Promise<void>,
): Promise<number> {
  let index = 0;
  let pending: Buffer[] = [];
  for await (const chunk of stream) {
    const buf =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let at = 0;
    for (let nl = buf.indexOf(0x0a, at); nl !== -1; nl = buf.indexOf(0x0a, at)) {
      if (picked[index])
        await onLine(index, pending.length ? Buffer.concat([...pending, buf.subarray(at, nl)]) : buf.subarray(at, nl));
      pending = [];
      index += 1;
      at = nl + 1;
    }
    if (at < buf.length) pending.push(Buffer.from(buf.subarray(at)));
  }
  if (pending.length) throw new Error('working set re-read ended without a newline');
  return index;
}

export async function filterScores(io: FilterIo, options: FilterOptions): Promise<FilterSummary> {
  const choose = chooserFor({
    method: options.method,
    alpha: options.alpha,
    seedTokens: options.seedPrompts?.map(tokenize),
  });
  const scores = new Float64List();
  const rewards = new Float64List();
  const candidateRewards = new RunningSummary();
  const workingRewards = new RunningSummary();
  let candidates = 0;
  let k = 0;

  try {
    for await (const { record } of readScores(io.scores)) {
      const pair = choose(record.candidates);
      const chosen = record.candidates[pair.chosen]!;
      const working: WorkingRecord = {
        id: record.id,
        prompt: record.prompt,
        chosen: chosen.text,
        rejected: record.candidates[pair.rejected]!.text,
        reward: chosen.reward,
      };
      await io.working.write(toJsonlLine(working));
      scores.push(pair.score);
      rewards.push(chosen.reward);
      workingRewards.add(chosen.reward);
      for (const candidate of record.candidates) candidateRewards.add(candidate.reward);
      candidates += record.candidates.length;
    }
    k = keepCount(scores.length, options.keepFraction);
    if (k === 0) {
      throw new InputError(
        io.scores.file,
        undefined,
        undefined,
        `the pool would be empty: ${scores.length} queries × keepFraction ${options.keepFraction} < 1; raise filter.keepFraction or synthesis.queries`,
      );
    }
    await io.working.done();
  } catch (error) {
    await Promise.allSettled([io.working.abort(), io.pool.abort()]);
    throw error;
  }

  const picked = pickPool(scores, k, options.method, options.seed);
  const poolRewards = new RunningSummary();
  let threshold = Infinity;
  try {
    // W is our own output, one line per query in order: only the picked lines are parsed.
    const lines = await forPickedLines(await io.reopenWorking(), picked, async (index, line) => {
      const working = JSON.parse(line.toString('utf8')) as WorkingRecord;
      const pool: PoolRecord = {
        id: working.id,
        prompt: working.prompt,
        response: working.chosen,
        reward: working.reward,
      };
      await io.pool.write(toJsonlLine(pool));
      poolRewards.add(rewards.get(index));
      threshold = Math.min(threshold, rewards.get(index));
    });
    if (lines !== scores.length) throw new Error(`working set re-read found ${lines} lines, wrote ${scores.length}`);
    await io.pool.done();
  } catch (error) {
    await io.pool.abort().catch(() => undefined);
    throw error;
  }

  return {
    method: options.method,
    alpha: options.method === 'ppl' ? 0 : options.alpha,
    keepFraction: options.keepFraction,
    queries: scores.length,
    candidates,
    poolSize: k,
    workingSize: scores.length,
    threshold,
    reward: { candidates: candidateRewards.toJSON(), working: workingRewards.toJSON(), pool: poolRewards.toJSON() },
  };
}

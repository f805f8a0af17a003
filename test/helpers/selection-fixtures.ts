/** Generators and runners shared by the filter and gate tests. */
import fc from 'fast-check';
import { filterScores, type FilterOptions, gateRound, type GateOptions } from '../../core/selection/index.js';
import { jsonl, memorySink, memorySource } from './memory-io.js';

export interface ScoresLine {
  id: string;
  prompt: string;
  candidates: { text: string; reward: number; ppl: number }[];
}

const candidate = fc.record({
  text: fc.constantFrom('alpha', 'beta gamma', 'gamma delta', 'delta', 'epsilon zeta eta'),
  reward: fc.integer({ min: -4, max: 4 }).map((n) => n / 4),
  ppl: fc.integer({ min: 1, max: 5 }),
});

/** M queries with ids q-000…, few distinct values so that ties are frequent. */
export const scoresFile = (maxQueries = 30) =>
  fc
    .array(fc.array(candidate, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: maxQueries })
    .map((queries) =>
      queries.map(
        (candidates, i): ScoresLine => ({ id: `q-${String(i).padStart(3, '0')}`, prompt: `prompt ${i}`, candidates }),
      ),
    );

export async function runFilter(lines: ScoresLine[] | string, options: FilterOptions) {
  const working = memorySink();
  const pool = memorySink();
  const text = typeof lines === 'string' ? lines : jsonl(lines);
  const summary = await filterScores(
    {
      scores: memorySource('scores.jsonl', text),
      working,
      pool,
      reopenWorking: () => memorySource('working.jsonl', working.text()).open(),
    },
    options,
  );
  return { summary, working: working.text(), pool: pool.text() };
}

export async function runGate(
  input: { scores: ScoresLine[] | string; pool: string; working: string },
  options: GateOptions,
) {
  const working = memorySink();
  const pool = memorySink();
  const scores = typeof input.scores === 'string' ? input.scores : jsonl(input.scores);
  const summary = await gateRound(
    {
      scores: memorySource('scores/round-1.jsonl', scores),
      poolIn: memorySource('pool/round-0.jsonl', input.pool),
      workingIn: memorySource('working/round-0.jsonl', input.working),
      pool,
      working,
    },
    options,
  );
  return { summary, working: working.text(), pool: pool.text(), sinks: { working, pool } };
}

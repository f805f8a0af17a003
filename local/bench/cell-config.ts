/**
 * The run config of one bench cell: the bench's base config with the cell's filter method,
 * ε, seed and refinement rounds, and the world's answer pattern, set on top. Everything
 * else (epochs, pool sizes, token limits) stays as the base config says, so every cell of
 * a grid differs only in what the grid varies.
 */
import type { BenchCell } from './grid.js';

type Json = Record<string, unknown>;

const section = (config: Json, key: string): Json => {
  const value = config[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
};

export function cellRunConfig(base: Json, cell: BenchCell, answerPattern: string | undefined): Json {
  const evaluation = { ...section(base, 'evaluation') };
  if (answerPattern !== undefined) evaluation.answerPattern = answerPattern;
  return {
    ...base,
    seed: cell.seed,
    privacy: { ...section(base, 'privacy'), epsilon: cell.epsilon },
    filter: { ...section(base, 'filter'), method: cell.method },
    refinement: { ...section(base, 'refinement'), rounds: cell.rounds },
    evaluation,
  };
}

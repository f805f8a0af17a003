/**
 * The benchmark grid: every (filter method × ε × seed) cell `rewardds bench` runs through
 * the local pipeline, in a stable order and with ids that stay the same from run to run (the
 * resume bookkeeping keys on them).
 */

export const FILTER_METHODS = ['reward', 'ppl', 'none', 'rouge-l'] as const;
export type FilterMethod = (typeof FILTER_METHODS)[number];

export interface BenchGrid {
  methods: FilterMethod[];
  epsilons: number[];
  /** The seeds each (method, ε) runs with: 1..n. */
  seeds: number[];
  /** Refinement rounds of every cell. */
  rounds: number;
}

export interface BenchCell {
  id: string;
  method: FilterMethod;
  epsilon: number;
  seed: number;
  rounds: number;
}

/**
 * ε 1 and 8, the two ends of the range users ask for: on two CPU cores every (ε, seed) costs
 * about 16 core-minutes (two DP trainings, four filtered cells), so a third ε would take the
 * three-seed grid past 90 minutes (docs/results.md). `--epsilons 1,4,8` runs all three.
 */
export const DEFAULT_GRID: BenchGrid = {
  methods: [...FILTER_METHODS],
  epsilons: [1, 8],
  seeds: [1, 2, 3],
  rounds: 2,
};

/** `--quick`: one ε (8), one seed, every method asked for. */
export function quickGrid(grid: BenchGrid): BenchGrid {
  return { ...grid, epsilons: [8], seeds: [grid.seeds[0] ?? 1] };
}

export const cellId = (c: Pick<BenchCell, 'method' | 'epsilon' | 'seed'>) =>
  `${c.method}-eps${c.epsilon}-seed${c.seed}`;

/** Seed-major, then ε, then method: a stopped grid has whole seeds done, so its table already has every method. */
export function expandCells(grid: BenchGrid): BenchCell[] {
  const cells: BenchCell[] = [];
  for (const seed of grid.seeds)
    for (const epsilon of grid.epsilons)
      for (const method of grid.methods)
        cells.push({ id: cellId({ method, epsilon, seed }), method, epsilon, seed, rounds: grid.rounds });
  return cells;
}

export function parseMethods(text: string): FilterMethod[] {
  const methods = splitList(text);
  for (const m of methods)
    if (!(FILTER_METHODS as readonly string[]).includes(m))
      throw new Error(`unknown filter method '${m}' (one of ${FILTER_METHODS.join(', ')})`);
  return [...new Set(methods)] as FilterMethod[];
}

export function parseEpsilons(text: string): number[] {
  const values = splitList(text).map(Number);
  for (const v of values)
    if (!(Number.isFinite(v) && v > 0)) throw new Error(`ε must be a positive number, got '${text}'`);
  return [...new Set(values)].sort((a, b) => a - b);
}

/**
 * `--seeds`: a count n (seeds 1..n) or a list of seeds ("2,3"), so one grid can be split
 * across processes with separate --out folders and their results.json merged afterwards.
 */
export function parseSeeds(text: string): number[] {
  if (!text.includes(',')) return Array.from({ length: parseCount(text, '--seeds', 1) }, (_, i) => i + 1);
  const values = splitList(text).map(Number);
  for (const v of values)
    if (!(Number.isInteger(v) && v >= 0)) throw new Error(`--seeds must list integers ≥ 0, got '${text}'`);
  return [...new Set(values)].sort((a, b) => a - b);
}

export function parseCount(text: string, what: string, min: number): number {
  const n = Number(text);
  if (!(Number.isInteger(n) && n >= min)) throw new Error(`${what} must be an integer ≥ ${min}, got '${text}'`);
  return n;
}

const splitList = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

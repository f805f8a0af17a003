/**
 * What `rewardds bench` has done, as it lands in `<out>/results.json`: a record per cell
 * (started, finished or failed, with its run id and evaluation rows) and the reference
 * rows. Pure: the command reads the file, applies these, and writes it back after every
 * change, so a stopped bench resumes where it stopped — a finished cell is skipped, a cell
 * that was started but never finished (or failed) runs again.
 */
import { type CellDiagnostics, type CellRewardAccuracy, type Diagnostics, roundDiagnostics } from './diagnostics.js';
import type { BenchCell, BenchGrid } from './grid.js';

export const RESULTS_SCHEMA = 'rewardds-bench/1';

/** One evaluation row as the evaluate stage writes it (eval/metrics.json). */
export interface MetricsRow {
  model: string;
  n?: number;
  rougeL?: number;
  bleu?: number;
  exactMatch?: number;
  answerAccuracy?: number;
  answerN?: number;
}

export interface CellRecord {
  id: string;
  method: BenchCell['method'];
  epsilon: number;
  seed: number;
  rounds: number;
  status: 'started' | 'finished' | 'failed';
  runId: string | null;
  startedAt: string;
  finishedAt: string | null;
  seconds: number | null;
  /** ε the run's release reports (privacy.json), which may sit just under the asked one. */
  epsilonSpent: number | null;
  /** Every row of the run's evaluation: `base`, `round-0`, … */
  evaluation: MetricsRow[];
  diagnostics: CellDiagnostics | null;
  /** The DP reward proxy's held-out accuracy (bench/reward_accuracy.py); null until measured (absent in files from before it). */
  rewardAccuracy?: CellRewardAccuracy | null;
  failure: string | null;
  /** Jobs of the run completed from the job cache (another cell's outputs), when any were. */
  reusedJobs?: number;
}

export interface ReferenceRecord {
  /** `base` (no fine-tuning), `non-private` (fine-tuned on the private train set without DP), `dp-sft`. */
  kind: 'base' | 'non-private' | 'dp-sft';
  /** Shown in tables: says plainly when a row is not private. */
  label: string;
  /** The grid seed it was measured with (its training's seed), so it averages over the same seeds as the cells. */
  seed: number;
  epsilon: number | null;
  row: MetricsRow | null;
  source: string;
  /** Why the row is missing, when it is. */
  reason?: string;
}

export interface BenchResults {
  schema: typeof RESULTS_SCHEMA;
  world: string;
  grid: BenchGrid;
  cells: CellRecord[];
  references: ReferenceRecord[];
}

export function emptyResults(world: string, grid: BenchGrid): BenchResults {
  return { schema: RESULTS_SCHEMA, world, grid, cells: [], references: [] };
}

/** A record counts as done for a cell only if it finished with the same number of rounds. */
const doneFor = (results: BenchResults, cell: BenchCell) =>
  results.cells.some((r) => r.id === cell.id && r.status === 'finished' && r.rounds === cell.rounds);

export function cellsToRun(cells: BenchCell[], results: BenchResults): BenchCell[] {
  return cells.filter((c) => !doneFor(results, c));
}

function replace(results: BenchResults, record: CellRecord): BenchResults {
  const others = results.cells.filter((r) => r.id !== record.id);
  return { ...results, cells: [...others, record] };
}

export function withCellStarted(results: BenchResults, cell: BenchCell, now: Date): BenchResults {
  return replace(results, {
    id: cell.id,
    method: cell.method,
    epsilon: cell.epsilon,
    seed: cell.seed,
    rounds: cell.rounds,
    status: 'started',
    runId: null,
    startedAt: now.toISOString(),
    finishedAt: null,
    seconds: null,
    epsilonSpent: null,
    evaluation: [],
    diagnostics: null,
    rewardAccuracy: null,
    failure: null,
  });
}

export interface CellOutcome {
  runId: string;
  succeeded: boolean;
  seconds: number;
  epsilonSpent: number | null;
  evaluation: MetricsRow[];
  diagnostics: CellDiagnostics;
  rewardAccuracy: CellRewardAccuracy;
  failure?: string;
  reusedJobs?: number;
}

export function withCellEnded(results: BenchResults, cell: BenchCell, outcome: CellOutcome, now: Date): BenchResults {
  const started = results.cells.find((r) => r.id === cell.id);
  if (!started) throw new Error(`cell ${cell.id} ended without having started`);
  return replace(results, {
    ...started,
    status: outcome.succeeded ? 'finished' : 'failed',
    runId: outcome.runId,
    finishedAt: now.toISOString(),
    seconds: outcome.seconds,
    epsilonSpent: outcome.epsilonSpent,
    evaluation: outcome.evaluation,
    diagnostics: outcome.diagnostics,
    rewardAccuracy: outcome.rewardAccuracy,
    failure: outcome.succeeded ? null : (outcome.failure ?? 'failed'),
    ...(outcome.reusedJobs ? { reusedJobs: outcome.reusedJobs } : {}),
  });
}

/** Finished cells without a reward proxy accuracy (recorded before the bench measured it): measured on resume. */
/**
 * Finished cells whose reward proxy figures are missing — or, with `minimalPairs` (the world
 * has an answerPattern), lack the minimal-pair figure, which came later — to measure now.
 */
export function cellsWithoutRewardAccuracy(results: BenchResults, minimalPairs = false): CellRecord[] {
  const lacks = (c: CellRecord) =>
    !c.rewardAccuracy ||
    (minimalPairs && 'figures' in c.rewardAccuracy && c.rewardAccuracy.figures.swappedAccuracy === undefined);
  return results.cells.filter((c) => c.status === 'finished' && c.runId && lacks(c));
}

export function withRewardAccuracy(results: BenchResults, cellId: string, value: CellRewardAccuracy): BenchResults {
  const cell = results.cells.find((c) => c.id === cellId);
  if (!cell) throw new Error(`no cell ${cellId}`);
  return replace(results, { ...cell, rewardAccuracy: value });
}

export function withReference(results: BenchResults, reference: ReferenceRecord): BenchResults {
  const same = (r: ReferenceRecord) =>
    r.kind === reference.kind && r.seed === reference.seed && r.epsilon === reference.epsilon;
  return { ...results, references: [...results.references.filter((r) => !same(r)), reference] };
}

/**
 * Folds the results of a grid split across processes (each its own --out) into `into`: cells
 * by id (a finished record wins over an unfinished one; two finished records of one cell are
 * refused, since only one of them can be the cell's), references by (kind, ε, seed).
 */
export function mergeResults(into: BenchResults, parts: BenchResults[]): BenchResults {
  let merged = into;
  for (const part of parts) {
    if (part.world !== into.world)
      throw new Error(`cannot merge results of world '${part.world}' into '${into.world}'`);
    for (const cell of part.cells) {
      const held = merged.cells.find((c) => c.id === cell.id);
      if (held?.status === 'finished' && cell.status === 'finished' && held.runId !== cell.runId)
        throw new Error(`cell ${cell.id} finished in two runs (${held.runId}, ${cell.runId}): keep one`);
      if (!held || (held.status !== 'finished' && cell.status === 'finished')) merged = replace(merged, cell);
    }
    for (const reference of part.references) {
      const held = merged.references.find(
        (r) => r.kind === reference.kind && r.seed === reference.seed && r.epsilon === reference.epsilon,
      );
      if (!held?.row) merged = withReference(merged, reference);
    }
  }
  return merged;
}

/** One row per finished cell × refinement round: the flat table results.json publishes. */
export interface ResultRow {
  cell: string;
  method: string;
  epsilon: number;
  seed: number;
  round: number;
  runId: string;
  n: number | null;
  rougeL: number | null;
  bleu: number | null;
  exactMatch: number | null;
  answerAccuracy: number | null;
  diagnostics: Diagnostics;
}

export function resultRows(results: BenchResults): ResultRow[] {
  const rows: ResultRow[] = [];
  const finished = results.cells.filter((c) => c.status === 'finished' && c.runId !== null);
  for (const cell of [...finished].sort((a, b) => a.id.localeCompare(b.id))) {
    for (const row of cell.evaluation) {
      const m = /^round-(\d+)$/.exec(row.model);
      if (!m) continue;
      rows.push({
        cell: cell.id,
        method: cell.method,
        epsilon: cell.epsilon,
        seed: cell.seed,
        round: Number(m[1]),
        runId: cell.runId!,
        n: row.n ?? null,
        rougeL: row.rougeL ?? null,
        bleu: row.bleu ?? null,
        exactMatch: row.exactMatch ?? null,
        answerAccuracy: row.answerAccuracy ?? null,
        diagnostics: roundDiagnostics(
          cell.diagnostics ?? { value: null, reason: 'not recorded' },
          Number(m[1]),
          cell.rewardAccuracy,
        ),
      });
    }
  }
  return rows.sort((a, b) => a.cell.localeCompare(b.cell) || a.round - b.round);
}

/** The base target's row of each seed: any finished cell of that seed evaluated the untouched base. */
export function baseReferences(results: BenchResults): ReferenceRecord[] {
  const out: ReferenceRecord[] = [];
  for (const seed of [...new Set(results.cells.map((c) => c.seed))].sort((a, b) => a - b)) {
    const cell = results.cells
      .filter((c) => c.seed === seed && c.status === 'finished')
      .sort((a, b) => a.id.localeCompare(b.id))
      .find((c) => c.evaluation.some((r) => r.model === 'base'));
    if (!cell) continue;
    out.push({
      kind: 'base',
      label: 'base target (no fine-tuning)',
      seed,
      epsilon: null,
      row: cell.evaluation.find((r) => r.model === 'base')!,
      source: `evaluation of run ${cell.runId}`,
    });
  }
  return out;
}

/** A reference measurement to make: the kind, the grid seed, and ε for DP-SFT. */
export interface ReferenceTask {
  kind: 'non-private' | 'dp-sft';
  seed: number;
  epsilon: number | null;
}

/**
 * The references the grid still lacks, one per seed (and per ε for DP-SFT), seed-major. One
 * already in results.json with a row for its (kind, ε, seed) is kept, not measured again; one
 * recorded without a row (it failed) is measured again.
 */
export function referencesToRun(grid: BenchGrid, references: ReferenceRecord[]): ReferenceTask[] {
  const has = (kind: ReferenceTask['kind'], seed: number, epsilon: number | null) =>
    references.some((r) => r.kind === kind && r.seed === seed && r.epsilon === epsilon && r.row);
  const tasks: ReferenceTask[] = [];
  for (const seed of grid.seeds) {
    if (!has('non-private', seed, null)) tasks.push({ kind: 'non-private', seed, epsilon: null });
    for (const epsilon of grid.epsilons)
      if (!has('dp-sft', seed, epsilon)) tasks.push({ kind: 'dp-sft', seed, epsilon });
  }
  return tasks;
}

/**
 * Diagnostics that explain a cell's result, from the world's oracle.py
 * (bench/oracle_diagnostics.py). Whatever is not measured — no oracle, no pattern, the
 * script failed, a stage without pairs — is recorded as absent, null with the reason,
 * never as zero, so a reader cannot mistake "not measured" for "measured and all wrong".
 */

export interface Absent {
  value: null;
  reason: string;
}

export interface Measured {
  value: number;
}

export type Diagnostic = Absent | Measured;

export const DIAGNOSTIC_KEYS = ['candidateCorrectness', 'poolCorrectness', 'coverage', 'generatorValidity'] as const;
export type DiagnosticKey = (typeof DIAGNOSTIC_KEYS)[number];
export type Diagnostics = Record<DiagnosticKey, Diagnostic>;

/** What bench/oracle_diagnostics.py prints for one run: aggregates only. */
export interface OracleFigures {
  generatorValidity: number | null;
  /** Stage (`candidates`, `pool-round-<r>`) → share of pairs with the oracle's answer. */
  poolCorrectness: Record<string, number | null>;
  /** Stage → share of the distinct private facts stated correctly. */
  coverage: Record<string, number | null>;
  privateFacts: number;
}

/** A cell's diagnostics as recorded: the oracle's figures, or why there are none. */
export type CellDiagnostics = { figures: OracleFigures } | Absent;

export const absent = (reason: string): Absent => ({ value: null, reason });

export const NO_ORACLE = 'the world has no oracle.py';
export const NO_PATTERN = 'world.json has no answerPattern';
const NOT_IN_RUN = 'the run wrote no such stage';

export const isAbsent = (d: Diagnostic | CellDiagnostics): d is Absent => 'value' in d && d.value === null;

const measured = (value: number | null | undefined): Diagnostic =>
  typeof value === 'number' && Number.isFinite(value) ? { value } : absent(NOT_IN_RUN);

/** The diagnostics of one refinement round: its pool's correctness and coverage, and the cell-wide ones. */
export function roundDiagnostics(cell: CellDiagnostics, round: number): Diagnostics {
  if (isAbsent(cell))
    return { candidateCorrectness: cell, poolCorrectness: cell, coverage: cell, generatorValidity: cell };
  const f = cell.figures;
  return {
    candidateCorrectness: measured(f.poolCorrectness.candidates),
    poolCorrectness: measured(f.poolCorrectness[`pool-round-${round}`]),
    coverage: measured(f.coverage[`pool-round-${round}`]),
    generatorValidity: measured(f.generatorValidity),
  };
}

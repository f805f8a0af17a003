/**
 * Diagnostics that explain a cell's result. Those that need the world's `oracle.py` are
 * recorded as absent — null with the reason — never as zero, so a reader cannot mistake
 * "not measured" for "measured and nothing was right".
 */

export interface Absent {
  value: null;
  reason: string;
}

export interface Measured {
  value: number;
}

export type Diagnostic = Absent | Measured;

export const DIAGNOSTIC_KEYS = ['poolCorrectness', 'coverage', 'generatorValidity'] as const;
export type DiagnosticKey = (typeof DIAGNOSTIC_KEYS)[number];
export type Diagnostics = Record<DiagnosticKey, Diagnostic>;

export const absent = (reason: string): Absent => ({ value: null, reason });

export const NO_ORACLE = 'the world has no oracle.py';
export const NOT_COMPUTED = 'oracle diagnostics are not computed by this version of rewardds bench';

/** What a cell records while the oracle diagnostics are not computed: each absent, with why. */
export function absentDiagnostics(hasOracle: boolean): Diagnostics {
  const reason = hasOracle ? NOT_COMPUTED : NO_ORACLE;
  return { poolCorrectness: absent(reason), coverage: absent(reason), generatorValidity: absent(reason) };
}

export const isAbsent = (d: Diagnostic): d is Absent => d.value === null;

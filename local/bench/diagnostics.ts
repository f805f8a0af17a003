/**
 * Diagnostics that explain a cell's result: from the world's oracle.py
 * (bench/oracle_diagnostics.py), and the DP reward proxy's accuracy on held-out pairs of the
 * private test set, and on minimal pairs that differ only in the fact (bench/reward_accuracy.py). Whatever is not measured — no oracle, no pattern, the
 * script failed, a stage without pairs — is recorded as absent, null with the reason,
 * never as zero, so a reader cannot mistake "not measured" for "measured and all wrong".
 */

export interface Absent {
  value: null;
  reason: string;
}

export interface Measured {
  value: number;
  /** How many items the value is a share of, where the figure says (held-out pairs). */
  n?: number;
}

export type Diagnostic = Absent | Measured;

export const DIAGNOSTIC_KEYS = [
  'candidateCorrectness',
  'poolCorrectness',
  'coverage',
  'generatorValidity',
  'rewardAccuracy',
  'rewardFactAccuracy',
] as const;
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

/**
 * What bench/reward_accuracy.py prints for one run: on held-out pairs (a private test prompt
 * with its true response vs the proxy base's greedy answer), the share where the run's DP
 * reward proxy scores the true one higher, a tie counting half. Aggregates only.
 */
export interface RewardAccuracyFigures {
  accuracy: number;
  pairs: number;
  ties: number;
  /** Test records whose base answer equals the reference: no pair, so left out. */
  identicalLeftOut: number;
  testRecords: number;
  /**
   * The same ranking on minimal pairs: each true response vs itself with another test
   * record's fact (the world's answerPattern group) in its place. Absent without a pattern.
   */
  swappedAccuracy?: number;
  swappedPairs?: number;
}

/** A cell's reward proxy accuracy as recorded (one per cell: the proxy is trained once, before any round). */
export type CellRewardAccuracy = { figures: RewardAccuracyFigures } | Absent;

export const NO_REWARD_PAIRS = 'no held-out pair: every base answer equals its reference';
export const NOT_RECORDED = 'not recorded for this cell';
export const NO_MINIMAL_PAIRS = 'no minimal pairs: no answerPattern, or recorded before they were measured';

/** The script's printed line as a record: absent (with its reason) when it measured nothing. */
export function rewardAccuracyOf(printed: {
  accuracy: number | null;
  reason?: string;
  pairs?: number;
  ties?: number;
  identicalLeftOut?: number;
  testRecords?: number;
  swappedAccuracy?: number | null;
  swappedPairs?: number;
}): CellRewardAccuracy {
  if (typeof printed.accuracy !== 'number' || !Number.isFinite(printed.accuracy))
    return absent(printed.reason ?? NO_REWARD_PAIRS);
  return {
    figures: {
      accuracy: printed.accuracy,
      pairs: printed.pairs ?? 0,
      ties: printed.ties ?? 0,
      identicalLeftOut: printed.identicalLeftOut ?? 0,
      testRecords: printed.testRecords ?? 0,
      ...(typeof printed.swappedAccuracy === 'number' && Number.isFinite(printed.swappedAccuracy)
        ? { swappedAccuracy: printed.swappedAccuracy, swappedPairs: printed.swappedPairs ?? 0 }
        : {}),
    },
  };
}

export const absent = (reason: string): Absent => ({ value: null, reason });

export const NO_ORACLE = 'the world has no oracle.py';
export const NO_PATTERN = 'world.json has no answerPattern';
const NOT_IN_RUN = 'the run wrote no such stage';

export const isAbsent = (d: Diagnostic | CellDiagnostics | CellRewardAccuracy): d is Absent =>
  'value' in d && d.value === null;

const measured = (value: number | null | undefined): Diagnostic =>
  typeof value === 'number' && Number.isFinite(value) ? { value } : absent(NOT_IN_RUN);

/** The diagnostics of one refinement round: its pool's correctness and coverage, and the cell-wide ones. */
export function roundDiagnostics(
  cell: CellDiagnostics,
  round: number,
  reward: CellRewardAccuracy | null | undefined = null,
): Diagnostics {
  const rewardAccuracy: Diagnostic = !reward
    ? absent(NOT_RECORDED)
    : isAbsent(reward)
      ? reward
      : { value: reward.figures.accuracy, n: reward.figures.pairs };
  const rewardFactAccuracy: Diagnostic = !reward
    ? absent(NOT_RECORDED)
    : isAbsent(reward)
      ? reward
      : reward.figures.swappedAccuracy === undefined
        ? absent(NO_MINIMAL_PAIRS)
        : { value: reward.figures.swappedAccuracy, n: reward.figures.swappedPairs ?? 0 };
  if (isAbsent(cell))
    return {
      candidateCorrectness: cell,
      poolCorrectness: cell,
      coverage: cell,
      generatorValidity: cell,
      rewardAccuracy,
      rewardFactAccuracy,
    };
  const f = cell.figures;
  return {
    candidateCorrectness: measured(f.poolCorrectness.candidates),
    poolCorrectness: measured(f.poolCorrectness[`pool-round-${round}`]),
    coverage: measured(f.coverage[`pool-round-${round}`]),
    generatorValidity: measured(f.generatorValidity),
    rewardAccuracy,
    rewardFactAccuracy,
  };
}

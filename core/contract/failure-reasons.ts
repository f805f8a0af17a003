/**
 * What a failure may say once it crosses into the synthesis zone (failure.json, the Fail
 * state's cause): for a state of the private zone, one phrase of a fixed vocabulary, never
 * the raw reason. A raw reason can carry numbers that depend on the records (the sizes in an
 * out-of-memory message, a line number of the upload) or a library's echo of its input; it
 * stays where it arose (the private job record, the quarantine report, the job's log).
 * docs/privacy.md, "What leaves the private zone".
 */

/** Console names of the states that run in the private zone (infra/pipeline/definition.ts; a test holds them equal). */
export const PRIVATE_ZONE_STATES: readonly string[] = [
  'Prepare run',
  'DP-train generation proxy',
  'Build reward pairs',
  'DP-train reward proxy',
  'Release DP models',
  'Evaluate',
  'Release evaluation',
];

/** Why a private-zone job ended without a result, in the only words that cross. */
export const PRIVATE_JOB_REASONS = {
  outOfMemory: 'out of memory',
  timeLimit: 'stopped at its run-time limit (compute.maxRuntime)',
  stopped: 'stopped before it finished',
  capacity: 'no instance capacity',
  noModel: 'completed without a model',
  failed: 'failed; the reason stays in the private zone (its job record and log)',
} as const;

/** The phrase for a private job's raw SageMaker status and reason; the reason itself never crosses. */
export function privateJobReason(status: string, rawReason: string | undefined): string {
  const reason = rawReason ?? '';
  if (/out ?of ?memory|OutOfMemoryError|MemoryError|\bOOM\b/i.test(reason)) return PRIVATE_JOB_REASONS.outOfMemory;
  if (/MaxRuntimeExceeded|MaxWaitTimeExceeded|MaxRuntimeInSeconds/.test(reason)) return PRIVATE_JOB_REASONS.timeLimit;
  if (/InsufficientCapacity|CapacityError|ResourceLimitExceeded/.test(reason)) return PRIVATE_JOB_REASONS.capacity;
  return status === 'Stopped' ? PRIVATE_JOB_REASONS.stopped : PRIVATE_JOB_REASONS.failed;
}

/** What a failure of a private-zone state says in the synthesis zone, by error name. */
export const PRIVATE_STATE_CAUSES: Readonly<Record<string, string>> = {
  InputRejected: 'the upload was rejected; the reason is in its quarantine report in the private bucket',
  InfeasiblePlanError: 'the privacy budget cannot be met with these records and settings; see the quarantine report',
  PrivacyBudgetExceeded: "the DP trainings compose above the run's privacy budget; nothing was released",
  PrivacyCheckFailed: "a DP job's report does not match the plan or its own accountant; nothing was released",
  EvaluationNotAggregate: 'the evaluation output is not aggregate metrics only; nothing was released',
  'States.Timeout': 'timed out',
  'States.TaskFailed': 'the task failed; the reason stays in the private zone',
};
const OTHER_PRIVATE_CAUSE = 'failed; the reason stays in the private zone';

/**
 * The cause that may cross for a failure of `state`. Synthesis-zone states keep theirs (all
 * they handle is DP post-processing). A private job's JobFailed message is describe-job's
 * `<state>: <job> <status>: <phrase>`, kept only if its phrase is one of the vocabulary;
 * any other error of a private state becomes its phrase by error name.
 */
export function crossingCause(state: string, error: string, cause: string): string {
  if (!PRIVATE_ZONE_STATES.includes(state)) return cause;
  if (error === 'JobFailed') {
    const match = /^[^:]+: [A-Za-z0-9-]+ (Failed|Stopped|Completed): (.*)$/.exec(cause);
    const phrases: readonly string[] = Object.values(PRIVATE_JOB_REASONS);
    if (match && phrases.includes(match[2]!)) return cause;
    return `${state}: ${PRIVATE_JOB_REASONS.failed}`;
  }
  return PRIVATE_STATE_CAUSES[error] ?? OTHER_PRIVATE_CAUSE;
}

/**
 * Privacy accounting for a run (docs/privacy.md): the RDP accountant of the
 * Poisson-subsampled Gaussian mechanism, composition of the two DP trainings, the
 * conversion to (ε, δ) that Opacus uses, and the planner that picks σ_G and σ_R.
 */
export {
  DEFAULT_ORDERS,
  composeRdp,
  logAdd,
  logErfc,
  logSub,
  rdpCurve,
  rdpOfSampledGaussian,
  type Mechanism,
} from './rdp.js';
export {
  composeEpsilon,
  composePrivacy,
  mechanismEpsilon,
  rdpToEpsilon,
  type EpsilonAtOrder,
} from './conversion.js';
export { NEIGHBOURING, NEIGHBOURING_STATEMENT } from './guarantee.js';
export {
  evaluationNoiseScale,
  evaluationReservation,
  gaussianDelta,
  gaussianSigma,
  gaussianVariate,
  laplaceVariate,
  NOISABLE_METRICS,
  normalCdf,
  type EvaluationNoiseMechanism,
  type EvaluationReservation,
} from './evaluation-noise.js';
export {
  accountedEpsilon,
  InfeasiblePlanError,
  PLANNER_DISCRETIZATION,
  type AccountantName,
  MAX_NOISE_MULTIPLIER,
  MIN_NOISE_MULTIPLIER,
  PLAN_TOLERANCE,
  dpSgdSchedule,
  planPrivacy,
  type ModelPlan,
  type PrivacyPlan,
} from './planner.js';
export {
  composedPrivacyLoss,
  DEFAULT_DISCRETIZATION,
  MAX_GRID_POINTS,
  pldEpsilon,
  pldEpsilons,
  type ComposedPrivacyLoss,
  type PldDirection,
  type PldOptions,
} from './pld.js';
export {
  CANARY_PROMPT,
  canaryResponse,
  insertedRecords,
  makeCanaries,
  SECRET_PATTERN,
  type Canary,
} from './canaries.js';

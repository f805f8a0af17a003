/**
 * What the report's privacy tables say of each mechanism in privacy.json. A DP-SGD training
 * has a sampling rate, steps, a noise multiplier and a clip norm; the noised evaluation
 * (docs/privacy.md, "The evaluation") has none of these, so its cells name the mechanism it
 * does have and say why the others do not apply, instead of leaving dashes.
 */
import { num } from './format.js';
import type { EvaluationMechanismFigures, EvaluationRelease, MechanismFigures } from './report-document.js';

/** Plain-text cells: the caller escapes them for its table. */
export interface MechanismCells {
  sampleRate: string;
  steps: string;
  noise: string;
  clipNorm: string;
  epsilon: string;
  selfReportedEpsilon: string;
}

export const isDpSgd = (m: MechanismFigures | EvaluationMechanismFigures): m is MechanismFigures =>
  'noiseMultiplier' in m;

export function mechanismCells(
  m: MechanismFigures | EvaluationMechanismFigures,
  release: EvaluationRelease | null = null,
): MechanismCells {
  if (isDpSgd(m)) {
    return {
      sampleRate: num(m.sampleRate),
      steps: num(m.steps),
      noise: num(m.noiseMultiplier),
      clipNorm: num(m.clipNorm),
      epsilon: num(m.epsilon, 6),
      selfReportedEpsilon: num(m.selfReportedEpsilon, 6),
    };
  }
  // The scale is known only once the evaluation ran; privacy.json is written before it.
  const scale = release?.noise ? `, scale ${num(release.noise.scale, 4)}` : '';
  return {
    sampleRate: 'not applicable: every test record counts once, no sampling',
    steps: 'not applicable: one release of the means',
    noise: `${m.mechanism} noise on each mean${scale}, δ = ${num(m.delta)}`,
    clipNorm: 'not applicable: per-record scores lie in [0, 1], sensitivity 1/n per mean',
    epsilon: `${num(m.epsilon, 6)} (reserved by the plan)`,
    selfReportedEpsilon: 'not applicable: no job accountant, the noise is drawn for the reserved ε',
  };
}

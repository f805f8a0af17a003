/**
 * The one-screen summary at the top of the report: what a privacy or compliance reader
 * signs off and what a data scientist checks first. Pure: a document in, HTML out.
 */
import { escapeHtml } from './escape.js';
import { duration, num, usd } from './format.js';
import type { EvaluationRow, ReportDocument } from './report-document.js';
import { evaluationMetrics } from './report-charts.js';
import { NEIGHBOURING_STATEMENT } from '../../core/privacy/index.js';

/** What the (ε, δ) covers, in the words of docs/privacy.md ("The promise in one paragraph"). */
export const GUARANTEE =
  'Everything that leaves the private zone and is derived from the training records (the two proxy models and, by post-processing, every synthetic query, answer, score, target adapter and this report) is covered by one (ε, δ)-differential-privacy guarantee per training record.';

export interface Status {
  complete: boolean;
  text: string;
}

/** Complete when every round left a pool and, with a test set, the evaluation ran. */
export function runStatus(report: ReportDocument): Status {
  const missing: string[] = [];
  if (!report.privacy) missing.push('privacy.json');
  const noPool = report.pools.filter((p) => p.size === null).map((p) => p.round);
  if (noPool.length) missing.push(`pool of round ${noPool.join(', ')}`);
  if (report.run.hasTest && !report.evaluation) missing.push('evaluation');
  return missing.length
    ? { complete: false, text: `Incomplete: no ${missing.join('; no ')}` }
    : { complete: true, text: 'Complete' };
}

const LABELS: Record<string, string> = {
  answerAccuracy: 'answer accuracy',
  rougeL: 'ROUGE-L',
  bleu: 'BLEU',
  exactMatch: 'exact match',
};

/** The headline metric (answer accuracy when measured, else ROUGE-L), best private model vs base. */
export function bestVsBase(rows: EvaluationRow[] | null): string | null {
  if (!rows?.length) return null;
  const metrics = evaluationMetrics(rows);
  const metric = ['answerAccuracy', 'rougeL', ...metrics].find((m) => metrics.includes(m));
  if (!metric) return null;
  const value = (r: EvaluationRow) => {
    const v = (r as unknown as Record<string, unknown>)[metric];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  const base = rows.find((r) => r.model === 'base');
  const tuned = rows.filter((r) => r.model !== 'base' && !r.nonPrivate && value(r) !== null);
  if (tuned.length === 0) return null;
  const best = tuned.reduce((a, b) => (value(b)! > value(a)! ? b : a));
  const label = LABELS[metric] ?? metric;
  const baseValue = base ? value(base) : null;
  if (baseValue === null) return `${label} ${num(value(best), 3)} (${best.model})`;
  const delta = value(best)! - baseValue;
  return `${label} ${num(value(best), 3)} (${best.model}) vs ${num(baseValue, 3)} base (${delta >= 0 ? '+' : '−'}${num(Math.abs(delta), 3)})`;
}

/** From the first job's start to the last job's end; the sum of job times when starts are missing. */
export function wallSeconds(report: ReportDocument): { seconds: number; exact: boolean } | null {
  const spans = report.jobs
    .map((j) => ({ start: j.start ? Date.parse(j.start) : NaN, seconds: j.seconds }))
    .filter((j) => j.seconds !== null);
  if (spans.length === 0) return null;
  if (spans.every((s) => Number.isFinite(s.start))) {
    const first = Math.min(...spans.map((s) => s.start));
    const last = Math.max(...spans.map((s) => s.start + s.seconds! * 1000));
    return { seconds: (last - first) / 1000, exact: true };
  }
  return { seconds: spans.reduce((sum, s) => sum + s.seconds!, 0), exact: false };
}

export function summaryCard(report: ReportDocument): string {
  const status = runStatus(report);
  const p = report.privacy;
  const lastPool = [...report.pools].reverse().find((pool) => pool.size !== null);
  const best = bestVsBase(report.evaluation);
  const wall = wallSeconds(report);
  const tiles: [string, string][] = [
    ['private records', num(report.run.records)],
    [lastPool ? `pool after round ${lastPool.round}` : 'pool', lastPool ? `${num(lastPool.size)} responses` : '–'],
    ['best evaluation vs base', best ?? 'not evaluated'],
    [
      wall?.exact === false ? 'synthesis job time (sum)' : 'wall time (synthesis jobs)',
      duration(wall?.seconds ?? null),
    ],
    ['estimated cost (synthesis jobs)', usd(report.cost.estimatedUsd)],
    ['rounds · filter', `${num(report.run.rounds)} · ${report.run.filterMethod}`],
  ];
  const privacy = p
    ? `<p class="guarantee"><strong>(ε, δ) = (${escapeHtml(num(p.epsilon, 3))}, ${escapeHtml(num(p.delta, 2))})</strong>, target ε ${escapeHtml(num(p.targetEpsilon))}, ${escapeHtml(p.accountant)} accountant. ${escapeHtml(GUARANTEE)} ${escapeHtml(NEIGHBOURING_STATEMENT)}</p>`
    : '<p class="guarantee absent"><strong>No privacy.json:</strong> the DP models were not released, so no guarantee is stated.</p>';
  return `<section class="summary-card" aria-label="Summary">
<p class="status ${status.complete ? 'ok' : 'incomplete'}"><span class="status-mark" aria-hidden="true">${status.complete ? '✔' : '!'}</span> ${escapeHtml(status.text)}</p>
${privacy}
<dl>${tiles.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`).join('')}</dl>
</section>`;
}

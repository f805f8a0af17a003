/**
 * Renders the run report as one self-contained HTML page (no scripts, no external assets)
 * that a reviewer can open from S3 or from disk. Pure: a ReportDocument in, a string out.
 * Every string from the document goes through `escapeHtml`, numbers through `num`.
 */
import type { Summary } from './distribution.js';
import type { EvaluationRelease, ReportDocument } from './report-document.js';

import { escapeHtml } from './escape.js';
import { duration, num, usd } from './format.js';
import { mechanismCells } from './mechanism-cells.js';
import { chartSections } from './report-charts.js';
import { REPORT_CSP, REPORT_STYLE } from './report-style.js';
import { summaryCard } from './summary-card.js';

export { escapeHtml, num };

/** A table from pre-escaped cells; `header` cells are escaped here. */
function table(header: string[], rows: string[][], caption?: string): string {
  if (rows.length === 0) return '<p class="absent">Nothing recorded.</p>';
  const head = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table>${caption ? `<caption>${escapeHtml(caption)}</caption>` : ''}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function summaryRow(label: string, s: Summary | null): string[] {
  if (!s) return [escapeHtml(label), ...new Array<string>(8).fill('–')];
  return [
    escapeHtml(label),
    num(s.count),
    num(s.mean),
    num(s.min),
    num(s.p25),
    num(s.median),
    num(s.p75),
    num(s.max),
    s.sampled ? 'sampled' : 'exact',
  ];
}

function section(title: string, body: string): string {
  return `<section><h2>${escapeHtml(title)}</h2>\n${body}\n</section>`;
}

const roundCell = (round: number | null) => (round === null ? '' : num(round));

/** Why the evaluation shows what it shows: withheld, noised (DP), or exact (not DP). */
export function evaluationNote(release: EvaluationRelease | null): string {
  if (release?.withheld) return `<p class="absent">Not released: ${escapeHtml(release.withheld)}.</p>`;
  const noise = release?.noise;
  if (noise) {
    const dropped = noise.withheldMetrics.length
      ? ` ${noise.withheldMetrics.join(', ')} not released: no per-record bound on its sensitivity.`
      : '';
    return `<p class="note">Differentially private: each mean carries ${escapeHtml(noise.mechanism)} noise (scale ${num(noise.scale, 4)}) at ε = ${num(noise.epsilon)}, δ = ${num(noise.delta)}, part of the run's total.${escapeHtml(dropped)}</p>`;
  }
  return '<p class="note">Exact aggregates over the test set, each test record used once per model: not differentially private (evaluation.noise is off).</p>';
}

export function renderReportHtml(report: ReportDocument): string {
  const { run, privacy } = report;

  const overview = table(
    [
      'private records',
      'refinement rounds',
      'filter',
      'keep fraction',
      'queries (M)',
      'candidates per query',
      'test set',
      'public seeds',
    ],
    [
      [
        num(run.records),
        num(run.rounds),
        escapeHtml(run.filterMethod),
        num(run.keepFraction),
        num(run.queries),
        num(run.candidatesPerQuery),
        run.hasTest ? 'yes' : 'no',
        run.hasSeeds ? 'yes' : 'no',
      ],
    ],
  );

  const counts = table(
    ['state', 'round', 'what', 'count'],
    report.counts.map((c) => [escapeHtml(c.state), roundCell(c.round), escapeHtml(c.what), num(c.count)]),
  );

  const pools = table(
    ['round', 'pool size', 'working set', 'lowest reward (τ)', 'mean reward', 'highest reward'],
    report.pools.map((p) => [
      num(p.round),
      num(p.size),
      num(p.working),
      num(p.reward?.min),
      num(p.reward?.mean),
      num(p.reward?.max),
    ]),
  );

  const { before, after } = report.distributions;
  const distributions = table(
    ['', 'count', 'mean', 'min', 'p25', 'median', 'p75', 'max', 'quantiles'],
    [
      summaryRow('reward, all candidates (before filtering)', before?.reward ?? null),
      summaryRow('reward, pool round 0 (after filtering)', after?.reward ?? null),
      summaryRow('perplexity, all candidates (before filtering)', before?.ppl ?? null),
      summaryRow('perplexity, pool round 0 (after filtering)', after?.ppl ?? null),
    ],
  );

  const privacySection = privacy
    ? table(
        ['ε (total)', 'δ', 'accountant', 'neighbouring', 'budget ε', 'records (public)'],
        [
          [
            num(privacy.epsilon),
            num(privacy.delta),
            escapeHtml(privacy.accountant),
            escapeHtml(privacy.neighbouring ?? '–'),
            num(privacy.targetEpsilon),
            num(privacy.records),
          ],
        ],
      ) +
      '\n' +
      table(
        ['mechanism', 'sampling rate q', 'steps', 'noise σ', 'clip norm C', 'ε recomputed', 'ε reported by the job'],
        Object.entries(privacy.mechanisms).map(([name, m]) => {
          const c = mechanismCells(m, report.evaluationRelease ?? null);
          return [name, c.sampleRate, c.steps, c.noise, c.clipNorm, c.epsilon, c.selfReportedEpsilon].map(escapeHtml);
        }),
      )
    : '<p class="absent">No privacy.json: the DP models were not released.</p>';

  const metricNames = ['rougeL', 'bleu', 'exactMatch'] as const;
  const evaluation = report.evaluation
    ? evaluationNote(report.evaluationRelease ?? null) +
      (report.evaluation.length
        ? table(
            ['model', 'test records', 'ROUGE-L', 'BLEU', 'exact match'],
            report.evaluation.map((r) => [escapeHtml(r.model), num(r.n), ...metricNames.map((m) => num(r[m]))]),
          )
        : '')
    : '<p class="absent">No evaluation (no test set, or it did not run).</p>';

  const stageMetrics = report.stageMetrics.length
    ? report.stageMetrics
        .map((s) =>
          table(
            ['figure', 'value'],
            Object.entries(s.metrics).map(([k, v]) => [escapeHtml(k), typeof v === 'number' ? num(v) : escapeHtml(v)]),
            s.round === null ? s.state : `${s.state} (round ${s.round})`,
          ),
        )
        .join('\n')
    : '<p class="absent">No stage metrics found.</p>';

  const stages = table(
    ['state', 'jobs', 'duration', 'estimated cost'],
    report.stages.map((s) => [escapeHtml(s.state), num(s.jobs), duration(s.seconds), usd(s.estimatedUsd)]),
  );
  const jobs = table(
    ['job', 'state', 'round', 'zone', 'instance', 'spot', 'duration', 'billed s', 'estimated cost'],
    report.jobs.map((j) => [
      `<code>${escapeHtml(j.jobName)}</code>`,
      escapeHtml(j.state),
      roundCell(j.round),
      escapeHtml(j.zone),
      `${escapeHtml(j.instanceType ?? '–')} × ${num(j.instanceCount)}`,
      j.spot ? 'yes' : 'no',
      duration(j.seconds),
      num(j.billedSeconds),
      usd(j.estimatedUsd),
    ]),
  );
  const costNote = `<p class="note"><strong>Estimated total: ${escapeHtml(usd(report.cost.estimatedUsd))}.</strong> ${escapeHtml(report.cost.note)} Prices: ${escapeHtml(report.cost.priceSource)}.</p>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>RewardDS run ${escapeHtml(report.runId)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #1d2733; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; } caption { text-align: left; font-weight: 600; padding: 0.25rem 0; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.6rem; text-align: right; } th { background: #f3f5f7; }
td:first-child, th:first-child { text-align: left; } .absent, .note { color: #57606a; }
${REPORT_STYLE}
</style>
</head>
<body>
<h1>RewardDS run <code>${escapeHtml(report.runId)}</code></h1>
<p>Generated ${escapeHtml(report.generatedAt)}. Every figure comes from the synthesis zone: DP models, their outputs, released aggregates and job timings.</p>
${summaryCard(report)}
${chartSections(report)
  .map((c) => `<section class="charts"><h2>${escapeHtml(c.title)}</h2>\n${c.html}\n</section>`)
  .join('\n')}
<h2 class="tables-heading">All figures</h2>
${section('Run', overview)}
${section('Privacy', privacySection)}
${section('Counts per stage', counts)}
${section('Pool per round', pools)}
${section('Reward and perplexity, before and after filtering', distributions)}
${section('Evaluation', evaluation)}
${section('Stage metrics', stageMetrics)}
${section('Durations and estimated costs', `${stages}\n${jobs}\n${costNote}`)}
</body>
</html>
`;
}

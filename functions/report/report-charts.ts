/**
 * The report's charts, from a ReportDocument: each answers one question a reader brings
 * (did filtering keep the good samples? did refinement help? how was the budget spent?
 * where did the time and money go?). A chart whose data the run does not have is left
 * out; the caller adds nothing for it. Pure: a document in, HTML strings out.
 */
import { barChart, type BarSeries } from './charts/bar-chart.js';
import { ganttChart } from './charts/gantt.js';
import { type HistogramSeries, histogramChart } from './charts/histogram.js';
import { lineChart } from './charts/line-chart.js';
import type { Histogram } from './distribution.js';
import { figure } from './figure.js';
import { mechanismCells } from './mechanism-cells.js';
import { duration, num, usd } from './format.js';
import { PRIVATE_TIMING_NOTE } from './costs.js';
import type { EvaluationRow, ReportDocument, RoundRewards } from './report-document.js';

export interface ChartSection {
  title: string;
  /** One or more figures. */
  html: string;
}

/** Each series as a share of its own total: a pool 30× smaller than its candidates still shows its shape. */
export function asShares(h: Histogram): Histogram {
  const total = h.counts.reduce((a, b) => a + b, 0);
  return { edges: h.edges, counts: h.counts.map((c) => (total > 0 ? (100 * c) / total : 0)) };
}

const binRows = (name: string, h: Histogram) => {
  const shares = asShares(h).counts;
  return h.counts.map((c, i) => [name, `${num(h.edges[i])} – ${num(h.edges[i + 1])}`, num(c), num(shares[i], 3)]);
};

/** Rounds from report.json, or round 0 from the older before/after distributions. */
function roundRewards(report: ReportDocument): RoundRewards[] {
  if (report.rewardsByRound?.length) return report.rewardsByRound;
  const { before, after } = report.distributions;
  if (!before) return [];
  return [
    {
      round: 0,
      candidates: { count: before.reward.count, histogram: before.reward.histogram },
      pool: after ? { count: after.reward.count, histogram: after.reward.histogram } : null,
      threshold: report.pools[0]?.reward?.min ?? null,
    },
  ];
}

export function rewardSection(report: ReportDocument): ChartSection | null {
  const rounds = roundRewards(report);
  if (rounds.length === 0) return null;
  const figures = rounds.map((r) => {
    const id = `chart-rewards-round-${r.round}`;
    const series: HistogramSeries[] = [
      { name: `all candidates (${num(r.candidates.count)})`, ...asShares(r.candidates.histogram) },
    ];
    if (r.pool) series.push({ name: `kept pool (${num(r.pool.count)})`, ...asShares(r.pool.histogram) });
    const tau =
      r.threshold === null
        ? []
        : [{ value: r.threshold, label: `τ = ${num(r.threshold, 3)}${r.round === 0 ? ' (lowest kept)' : ''}` }];
    const what =
      r.round === 0
        ? 'scored candidates and the pool kept by filtering'
        : `refined candidates and the pool after round ${r.round}`;
    return figure({
      id,
      svg: histogramChart({
        id,
        title: `Round ${r.round}: reward of ${what}`,
        description: `Overlaid histograms of the reward proxy's score: ${num(r.candidates.count)} candidates and ${r.pool ? num(r.pool.count) : 'no'} pooled responses, threshold τ marked.`,
        series,
        markers: tau,
        xLabel: 'reward (reward-proxy score)',
        yLabel: 'share of the series (%)',
      }),
      caption:
        r.round === 0
          ? 'Round 0: every scored candidate (light) and the responses kept in the pool (dark), each as a share of its own total; τ is the lowest reward kept.'
          : `Round ${r.round}: refined candidates (light) and the pool after the gate (dark), each as a share of its own total; τ is the lowest reward of pool ${r.round - 1}, the gate's threshold.`,
      header: ['series', 'reward bin', 'responses', 'share (%)'],
      rows: [
        ...binRows('all candidates', r.candidates.histogram),
        ...(r.pool ? binRows('kept pool', r.pool.histogram) : []),
      ],
    });
  });
  return {
    title: 'Did filtering keep the good samples? Reward per round',
    html: `<div class="small-multiples">${figures.join('')}</div>`,
  };
}

export function poolSection(report: ReportDocument): ChartSection | null {
  const pools = report.pools.filter((p) => p.size !== null || p.reward !== null);
  if (pools.length === 0) return null;
  const categories = pools.map((p) => String(p.round));
  const sizes = barChart({
    id: 'chart-pool-size',
    title: 'Pool size per round',
    description: `Responses in the synthetic training pool after each of ${pools.length} rounds.`,
    categories,
    series: [{ name: 'pool size', values: pools.map((p) => p.size) }],
    valueLabel: 'pool size (responses)',
    categoryLabel: 'round',
    width: 440,
  });
  const rewards = lineChart({
    id: 'chart-pool-reward',
    title: 'τ and mean pool reward per round',
    description: 'Lowest reward in the pool (the next round’s threshold τ) and the mean pool reward, per round.',
    xs: pools.map((p) => p.round),
    series: [
      { name: 'mean pool reward', values: pools.map((p) => p.reward?.mean ?? null) },
      { name: 'τ (lowest pool reward)', values: pools.map((p) => p.reward?.min ?? null) },
    ],
    xLabel: 'round',
    yLabel: 'reward (reward-proxy score)',
  });
  const rows = pools.map((p) => [num(p.round), num(p.size), num(p.reward?.min), num(p.reward?.mean)]);
  const header = ['round', 'pool size', 'τ (lowest reward)', 'mean reward'];
  return {
    title: 'Did refinement grow and improve the pool?',
    html: `<div class="small-multiples">${figure({ id: 'chart-pool-size', svg: sizes, caption: 'Pool size after each round.', header, rows })}${figure({ id: 'chart-pool-reward', svg: rewards, caption: 'The mean pool reward and the lowest reward τ; a rising τ means the gate keeps only better samples.', header, rows })}</div>`,
  };
}

const METRIC_NAMES: Record<string, string> = {
  rougeL: 'ROUGE-L',
  bleu: 'BLEU',
  exactMatch: 'exact match',
  answerAccuracy: 'answer accuracy',
};

/** Every numeric metric the rows carry, known ones first, so a metric added later is drawn too. */
export function evaluationMetrics(rows: EvaluationRow[]): string[] {
  const keys = new Set<string>();
  for (const row of rows)
    for (const [k, v] of Object.entries(row)) if (k !== 'n' && typeof v === 'number' && Number.isFinite(v)) keys.add(k);
  const known = Object.keys(METRIC_NAMES).filter((k) => keys.has(k));
  return [...known, ...[...keys].filter((k) => !(k in METRIC_NAMES)).sort()];
}

/** Light to dark over the rounds: later rounds read darker in greyscale too. */
export function roundRamp(index: number, count: number): string {
  const t = count <= 1 ? 1 : index / (count - 1);
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  const [r, g, b] = [mix(0xa6, 0x08), mix(0xcb, 0x30), mix(0xe8, 0x6b)];
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Metrics on one axis only when they share a scale: BLEU is reported in [0, 100] (sacrebleu),
 * the others in [0, 1]; a metric of unknown scale gets its own chart unless its values fit [0, 1].
 */
export function evaluationGroups(rows: EvaluationRow[]): { id: string; axis: string; metrics: string[] }[] {
  const metrics = evaluationMetrics(rows);
  const values = (m: string) =>
    rows.map((r) => (r as unknown as Record<string, unknown>)[m]).filter((v): v is number => typeof v === 'number');
  const unit = metrics.filter((m) => m !== 'bleu' && (m in METRIC_NAMES || values(m).every((v) => v >= 0 && v <= 1)));
  const groups = unit.length ? [{ id: 'chart-evaluation', axis: 'score (0 – 1)', metrics: unit }] : [];
  for (const m of metrics.filter((x) => !unit.includes(x))) {
    const name = METRIC_NAMES[m] ?? m;
    groups.push({
      id: `chart-evaluation-${m.replace(/[^a-zA-Z0-9]/g, '-')}`,
      axis: m === 'bleu' ? 'BLEU (0 – 100)' : name,
      metrics: [m],
    });
  }
  return groups;
}

export function evaluationSection(report: ReportDocument): ChartSection | null {
  const rows = report.evaluation ?? [];
  const metrics = evaluationMetrics(rows);
  if (rows.length === 0 || metrics.length === 0) return null;
  const value = (row: EvaluationRow, m: string) => {
    const v = (row as unknown as Record<string, unknown>)[m];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  const privateRows = rows.filter((r) => !r.nonPrivate && r.model !== 'base');
  const header = ['model', 'test records', ...metrics.map((m) => METRIC_NAMES[m] ?? m)];
  const tableRows = rows.map((r) => [
    r.model + (r.nonPrivate ? ' (non-private)' : ''),
    num(r.n),
    ...metrics.map((m) => num(value(r, m))),
  ]);
  const figures = evaluationGroups(rows).map((group) => {
    const series: BarSeries[] = rows.map((row) => {
      const values = group.metrics.map((m) => value(row, m));
      if (row.nonPrivate)
        return {
          name: /non-private/i.test(row.model) ? row.model : `${row.model} (non-private)`,
          values,
          fill: `url(#${group.id}-hatch-0)`,
        };
      if (row.model === 'base') return { name: 'base (no fine-tuning)', values, fill: '#ffffff' };
      return { name: row.model, values, fill: roundRamp(privateRows.indexOf(row), privateRows.length) };
    });
    const names = group.metrics.map((m) => METRIC_NAMES[m] ?? m);
    const svg = barChart({
      id: group.id,
      title: `Evaluation on the test set: ${names.join(', ')}`,
      description: `${names.join(', ')} of the base target and each round's fine-tuned target on ${num(rows[0]?.n)} test records.`,
      categories: names,
      series,
      valueLabel: group.axis,
      categoryLabel: 'metric',
      width: group.metrics.length > 1 ? 720 : 440,
    });
    const allZero = rows.every((r) => group.metrics.every((m) => !value(r, m)));
    return figure({
      id: group.id,
      svg,
      caption: `Per metric: the base target (outlined), each round (lighter to darker), and a non-private reference when the run has one (hatched).${allZero ? ' Every model scored 0 here: the bars are 1 px stubs.' : ''}`,
      header,
      rows: tableRows,
    });
  });
  return {
    title: 'Did fine-tuning on the synthetic data help?',
    html: `<div class="small-multiples wide">${figures.join('')}</div>`,
  };
}

export function privacySection(report: ReportDocument): ChartSection | null {
  const p = report.privacy;
  if (!p) return null;
  const mechanisms = Object.entries(p.mechanisms);
  const svg = barChart({
    id: 'chart-privacy',
    title: 'Privacy budget: ε per mechanism and composed',
    description: `ε of each DP mechanism alone and composed over the run (δ = ${num(p.delta)}), against the target ε = ${num(p.targetEpsilon)}.`,
    categories: [...mechanisms.map(([name]) => `${name} alone`), 'composed (whole run)'],
    series: [{ name: 'ε', values: [...mechanisms.map(([, m]) => m.epsilon), p.epsilon] }],
    valueLabel: 'ε (lower is more private)',
    categoryLabel: 'mechanism',
    orientation: 'horizontal',
    references: [{ value: p.targetEpsilon, label: `target ε = ${num(p.targetEpsilon)}` }],
  });
  return {
    title: 'How was the privacy budget spent?',
    html: figure({
      id: 'chart-privacy',
      svg,
      caption: `Composed with the ${p.accountant} accountant; ε of separate mechanisms does not add up linearly, which is why the composed total is less than their sum.`,
      header: ['mechanism', 'ε', 'noise σ', 'steps', 'sampling rate q'],
      rows: [
        ...mechanisms.map(([name, m]) => {
          const c = mechanismCells(m, report.evaluationRelease ?? null);
          return [name, c.epsilon, c.noise, c.steps, c.sampleRate];
        }),
        ['composed', num(p.epsilon, 6), '', '', ''],
        ['target', num(p.targetEpsilon, 6), '', '', ''],
      ],
    }),
  };
}

/**
 * A job's row label with its round: "Score candidates · round 2". Map-iterator states name
 * the round generically ("Fine-tune target (round r)", "Refine round"): the number goes there.
 */
export function jobLabel(j: { state: string; round: number | null }): string {
  if (j.round === null) return j.state;
  const n = String(j.round);
  if (/\bround r\b/.test(j.state)) return j.state.replace(/\bround r\b/, `round ${n}`);
  if (j.state.toLowerCase().includes(`round ${n}`)) return j.state;
  if (/\bround$/i.test(j.state)) return `${j.state} ${n}`;
  return `${j.state} · round ${n}`;
}

export function timeSection(report: ReportDocument): ChartSection | null {
  if (report.jobs.length === 0) return null;
  const gantt = ganttChart({
    id: 'chart-timeline',
    title: 'Job timeline',
    description: `${report.jobs.length} synthesis-zone SageMaker jobs from the first start.`,
    jobs: report.jobs.map((j) => ({ label: jobLabel(j), zone: j.zone, start: j.start ?? null, seconds: j.seconds })),
  });
  const timeline = figure({
    id: 'chart-timeline',
    svg: gantt,
    caption: `Each synthesis-zone job from start to end. ${PRIVATE_TIMING_NOTE}`,
    header: ['job', 'state', 'zone', 'start', 'duration'],
    rows: report.jobs.map((j) => [j.jobName, jobLabel(j), j.zone, j.start ?? '–', duration(j.seconds)]),
  });
  const priced = report.stages.some((s) => s.estimatedUsd !== null);
  const stages = report.stages;
  const perStage = barChart({
    id: 'chart-stage-cost',
    title: priced ? 'Estimated cost per stage' : 'Job time per stage',
    description: priced
      ? `Estimated USD per console state (${report.cost.priceSource}).`
      : 'Seconds of job time per console state (no instance prices apply to this run).',
    categories: stages.map((s) => s.state),
    series: [
      {
        name: priced ? 'estimated cost' : 'job time',
        values: stages.map((s) => (priced ? s.estimatedUsd : s.seconds)),
      },
    ],
    valueLabel: priced ? 'estimated cost (USD)' : 'job time (s)',
    categoryLabel: 'stage',
    orientation: 'horizontal',
  });
  const costs = figure({
    id: 'chart-stage-cost',
    svg: perStage,
    caption: priced
      ? report.cost.note
      : 'This run has no priced instances (a local run), so the chart shows job time instead of money.',
    header: ['stage', 'jobs', 'duration', 'estimated cost'],
    rows: stages.map((s) => [s.state, num(s.jobs), duration(s.seconds), usd(s.estimatedUsd)]),
  });
  return { title: 'Where did the time and money go?', html: timeline + costs };
}

export function canarySection(report: ReportDocument): ChartSection | null {
  const audit = report.canaryAudit;
  if (!audit) return null;
  const exposures = (audit.exposures ?? []).filter(Number.isFinite);
  const svg = barChart({
    id: 'chart-canary',
    title: 'Canary audit: exposure of each inserted secret',
    description: `Exposure of ${num(audit.canaries)} canary secrets in the DP generator; near chance means the generator did not memorise them.`,
    categories: exposures.map((_, i) => `canary ${i + 1}`),
    series: [{ name: 'exposure', values: exposures }],
    valueLabel: 'exposure (bits)',
    categoryLabel: 'canary',
    references:
      audit.chanceExposure === undefined
        ? []
        : [{ value: audit.chanceExposure, label: `chance ≈ ${num(audit.chanceExposure, 3)} bits` }],
  });
  return {
    title: 'Empirical privacy audit (canaries)',
    html: figure({
      id: 'chart-canary',
      svg,
      caption: `Membership-inference AUC ${num(audit.auc, 3)} (0.5 is chance); canary secrets found in the synthetic data: ${num(audit.secretsInSynthetic)}.`,
      header: ['canary', 'exposure (bits)'],
      rows: exposures.map((e, i) => [`canary ${i + 1}`, num(e)]),
    }),
  };
}

/** Every chart section the run has data for, in reading order. */
export function chartSections(report: ReportDocument): ChartSection[] {
  return [
    rewardSection(report),
    poolSection(report),
    evaluationSection(report),
    privacySection(report),
    canarySection(report),
    timeSection(report),
  ].filter((s): s is ChartSection => s !== null);
}

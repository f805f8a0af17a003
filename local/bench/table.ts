/**
 * results.md: per metric, mean ± std over seeds for each method × round (rows) and ε
 * (columns), the best mean of each column in bold, and the reference rows below a rule.
 */
import type { ReferenceRecord, ResultRow } from './bookkeeping.js';
import { DIAGNOSTIC_KEYS, type DiagnosticKey } from './diagnostics.js';

export const TABLE_METRICS = ['answerAccuracy', 'rougeL', 'bleu', 'exactMatch'] as const;
export type TableMetric = (typeof TABLE_METRICS)[number];

const METRIC_NAMES: Record<TableMetric, string> = {
  answerAccuracy: 'answer accuracy',
  rougeL: 'ROUGE-L',
  bleu: 'BLEU',
  exactMatch: 'exact match',
};

export interface MeanStd {
  mean: number;
  /** Sample standard deviation; null with fewer than two values. */
  std: number | null;
  n: number;
}

export function meanStd(values: number[]): MeanStd | null {
  if (values.length === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length < 2) return { mean, std: null, n: values.length };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance), n: values.length };
}

const digits = (metric: TableMetric) => (metric === 'bleu' ? 2 : 3);

export function formatMeanStd(m: MeanStd | null, d: number): string {
  if (!m) return '—';
  return m.std === null ? m.mean.toFixed(d) : `${m.mean.toFixed(d)} ± ${m.std.toFixed(d)}`;
}

const valuesOf = <T>(items: T[], get: (item: T) => number | null | undefined) =>
  items.map(get).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));

/** Means of one metric per (method, round) row and ε column; shared by the table and the chart. */
export function cellGrid(rows: ResultRow[], metric: TableMetric | ((row: ResultRow) => number | null)) {
  const get = typeof metric === 'function' ? metric : (r: ResultRow) => r[metric];
  const epsilons = [...new Set(rows.map((r) => r.epsilon))].sort((a, b) => a - b);
  const keys = [...new Set(rows.map((r) => `${r.method}\u0000${r.round}`))]
    .map((k) => {
      const [method, round] = k.split('\u0000');
      return { method: method!, round: Number(round) };
    })
    .sort((a, b) => a.method.localeCompare(b.method) || a.round - b.round);
  const values = keys.map((k) =>
    epsilons.map((eps) =>
      meanStd(
        valuesOf(
          rows.filter((r) => r.method === k.method && r.round === k.round && r.epsilon === eps),
          get,
        ),
      ),
    ),
  );
  return { epsilons, keys, values };
}

export function metricTable(rows: ResultRow[], references: ReferenceRecord[], metric: TableMetric): string {
  return gridTable(rows, metric, METRIC_NAMES[metric], digits(metric), referenceLines(references, metric, rows));
}

const DIAGNOSTIC_NAMES: Record<DiagnosticKey, string> = {
  candidateCorrectness: 'diagnostic: candidate correctness (round 0, before filtering)',
  poolCorrectness: 'diagnostic: pool correctness',
  coverage: 'diagnostic: coverage of the private facts',
  generatorValidity: 'diagnostic: generator validity',
  rewardAccuracy:
    'diagnostic: reward proxy accuracy (held-out test pairs: true response vs the base answer; ties count half)',
  rewardFactAccuracy:
    "diagnostic: reward proxy on minimal pairs (true response vs itself with another test record's fact; ties half)",
};

/** A diagnostic as a table like the metrics', or null when no row measured it (then it is absent, not zero). */
export function diagnosticTable(rows: ResultRow[], key: DiagnosticKey): string | null {
  if (!rows.some((r) => r.diagnostics[key].value !== null)) return null;
  return gridTable(rows, (r) => r.diagnostics[key].value, DIAGNOSTIC_NAMES[key], 3, []);
}

function gridTable(
  rows: ResultRow[],
  metric: TableMetric | ((row: ResultRow) => number | null),
  title: string,
  places: number,
  refs: string[],
): string {
  const { epsilons, keys, values } = cellGrid(rows, metric);
  const best = epsilons.map((_, j) => {
    const means = values.map((row) => row[j]?.mean).filter((v): v is number => v !== undefined);
    return means.length ? Math.max(...means) : null;
  });
  const header = `| method | round | ${epsilons.map((e) => `ε = ${e}`).join(' | ')} |`;
  const rule = `| --- | ---: | ${epsilons.map(() => '---:').join(' | ')} |`;
  const body = keys.map((k, i) => {
    const cells = values[i]!.map((m, j) => {
      const text = formatMeanStd(m, places);
      return m && best[j] !== null && m.mean === best[j] ? `**${text}**` : text;
    });
    return `| ${k.method} | ${k.round} | ${cells.join(' | ')} |`;
  });
  return [`### ${title}`, '', header, rule, ...body, ...refs].join('\n');
}

/**
 * The references of the seeds the rows have, so a reference's mean ± std is over the same
 * seeds as the methods' (an older reference of another seed, e.g. seed 0, stays in
 * results.json but is not mixed in).
 */
export function referencesForRows(references: ReferenceRecord[], rows: ResultRow[]): ReferenceRecord[] {
  const seeds = new Set(rows.map((r) => r.seed));
  return references.filter((r) => seeds.has(r.seed));
}

/** Reference rows: one value for all ε (base, non-private), or one per ε (DP-SFT). */
function referenceLines(references: ReferenceRecord[], metric: TableMetric, rows: ResultRow[]): string[] {
  const { epsilons } = cellGrid(rows, metric);
  const lines: string[] = [];
  const ofSeeds = referencesForRows(references, rows);
  for (const kind of ['base', 'non-private', 'dp-sft'] as const) {
    const of = ofSeeds.filter((r) => r.kind === kind);
    if (!of.length) continue;
    const label = of[0]!.label;
    const cells = epsilons.map((eps) => {
      const here = of.filter((r) => r.epsilon === null || r.epsilon === eps);
      return formatMeanStd(meanStd(valuesOf(here, (r) => r.row?.[metric])), digits(metric));
    });
    lines.push(`| *${label}* | — | ${cells.join(' | ')} |`);
  }
  return lines;
}

export function resultsMarkdown(
  world: string,
  rows: ResultRow[],
  references: ReferenceRecord[],
  notes: string[] = [],
): string {
  const seeds = new Set(rows.map((r) => r.seed)).size;
  const lines = [
    `# rewardds bench: ${world}`,
    '',
    `Mean ± sample std over ${seeds} seed(s) (a single value where one seed finished); best mean of each ε column in bold.`,
    'Rows in italics are references, not RewardDS runs; the non-private row is NOT private (fine-tuned on the private train set without DP).',
    ...notes.map((n) => `- ${n}`),
  ];
  for (const metric of TABLE_METRICS) lines.push('', metricTable(rows, references, metric));
  for (const key of DIAGNOSTIC_KEYS) {
    const table = diagnosticTable(rows, key);
    if (table) lines.push('', table);
  }
  return `${lines.join('\n')}\n`;
}

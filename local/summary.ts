/**
 * What a finished local run shows its user, read from the run's local copy: (ε, δ) from
 * privacy.json, the pool size of each round, the evaluation table and the report's path.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface EvaluationRow {
  model: string;
  n?: number;
  rougeL?: number;
  bleu?: number;
  exactMatch?: number;
}

export interface RunSummary {
  epsilon: number | null;
  delta: number | null;
  poolSizes: number[];
  evaluation: { rows: EvaluationRow[] } | null;
  reportPath: string | null;
}

const readJson = <T>(path: string): T | undefined =>
  existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;

const countLines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '').length;

/** `outputDir` is `<workdir>/runs/<run>/` as the runner lays it out (`private/`, `synthesis/`). */
export function summarizeRun(outputDir: string): RunSummary {
  const synthesis = join(outputDir, 'synthesis');
  const privacy = readJson<{ epsilon?: number; delta?: number }>(join(synthesis, 'release', 'privacy.json'));
  const poolDir = join(synthesis, 'pool');
  const rounds = existsSync(poolDir)
    ? readdirSync(poolDir)
        .map((f) => /^round-(\d+)\.jsonl$/.exec(f))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]))
        .sort((a, b) => a - b)
    : [];
  const evaluation =
    readJson<{ rows: EvaluationRow[] }>(join(synthesis, 'eval', 'metrics.json')) ??
    readJson<{ rows: EvaluationRow[] }>(join(outputDir, 'private', 'eval', 'metrics.json')) ??
    null;
  const html = join(synthesis, 'report', 'report.html');
  const json = join(synthesis, 'report', 'report.json');
  return {
    epsilon: privacy?.epsilon ?? null,
    delta: privacy?.delta ?? null,
    poolSizes: rounds.map((r) => countLines(join(poolDir, `round-${r}.jsonl`))),
    evaluation,
    reportPath: existsSync(html) ? html : existsSync(json) ? json : null,
  };
}

/** The evaluation rows as a fixed-width table. */
export function evaluationTable(rows: EvaluationRow[]): string {
  const metrics = (['rougeL', 'bleu', 'exactMatch'] as const).filter((m) => rows.some((r) => typeof r[m] === 'number'));
  const header = ['model', 'n', ...metrics];
  const body = rows.map((r) => [
    r.model,
    String(r.n ?? ''),
    ...metrics.map((m) => (typeof r[m] === 'number' ? r[m]!.toFixed(4) : '-')),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

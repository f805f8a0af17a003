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
  /** `withheld` says why no row was released (too few test records). */
  evaluation: { rows: EvaluationRow[]; withheld?: string } | null;
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
    readJson<{ rows: EvaluationRow[]; withheld?: string }>(join(synthesis, 'eval', 'metrics.json')) ??
    readJson<{ rows: EvaluationRow[]; withheld?: string }>(join(outputDir, 'private', 'eval', 'metrics.json')) ??
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

/** A run's wall time, and how much of it the jobs' bodies (after their imports) account for. */
export interface RunTime {
  wallSeconds: number;
  /** Time during which at least one job body ran (jobs running side by side count once). */
  jobBodySeconds: number;
  /** Everything else: synthesis, orchestration, S3 copies, process start and imports. */
  overheadSeconds: number;
  jobBodyShare: number;
}

/** Splits [startMs, endMs] into time inside job bodies (the union of their intervals, clipped) and the rest. */
export function runTime(startMs: number, endMs: number, bodies: { start: number; end: number }[]): RunTime {
  const clipped = bodies
    .map((b) => ({ start: Math.max(b.start, startMs), end: Math.min(b.end, endMs) }))
    .filter((b) => b.end > b.start)
    .sort((a, b) => a.start - b.start);
  let inside = 0;
  let reach = startMs;
  for (const b of clipped) {
    const from = Math.max(b.start, reach);
    if (b.end > from) inside += b.end - from;
    reach = Math.max(reach, b.end);
  }
  const wall = Math.max(0, endMs - startMs);
  return {
    wallSeconds: wall / 1000,
    jobBodySeconds: inside / 1000,
    overheadSeconds: (wall - inside) / 1000,
    jobBodyShare: wall > 0 ? inside / wall : 0,
  };
}

/** One line: the wall time and its split. */
export function timeLine(time: RunTime): string {
  return (
    `${time.wallSeconds.toFixed(1)}s wall: ${time.jobBodySeconds.toFixed(1)}s inside job bodies ` +
    `(${Math.round(time.jobBodyShare * 100)} %), ${time.overheadSeconds.toFixed(1)}s pipeline overhead ` +
    '(synthesis, orchestration, S3 copies, process start, imports)'
  );
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

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
  /**
   * The state machine execution alone, from the trigger to its last state: the pipeline without
   * local mode's own set-up (moto, synthesis, base models, the warm process's imports) and
   * without the copy of the outputs afterwards. Absent when the run never started one.
   */
  execution?: { seconds: number; jobBodySeconds: number; jobBodyShare: number };
}

interface Interval {
  start: number;
  end: number;
}

/** Milliseconds of [startMs, endMs] during which at least one interval runs. */
function coveredMs(startMs: number, endMs: number, intervals: Interval[]): number {
  const clipped = intervals
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
  return inside;
}

/**
 * Splits [startMs, endMs] into time inside job bodies (the union of their intervals, clipped) and
 * the rest; with `execution`, the same split of the execution's interval.
 */
export function runTime(startMs: number, endMs: number, bodies: Interval[], execution?: Interval): RunTime {
  const wall = Math.max(0, endMs - startMs);
  const inside = coveredMs(startMs, endMs, bodies);
  const time: RunTime = {
    wallSeconds: wall / 1000,
    jobBodySeconds: inside / 1000,
    overheadSeconds: (wall - inside) / 1000,
    jobBodyShare: wall > 0 ? inside / wall : 0,
  };
  if (execution) {
    const span = Math.max(0, execution.end - execution.start);
    const body = coveredMs(execution.start, execution.end, bodies);
    time.execution = { seconds: span / 1000, jobBodySeconds: body / 1000, jobBodyShare: span > 0 ? body / span : 0 };
  }
  return time;
}

/** The local-only timing file a run leaves beside its zones' copies (never uploaded, never in the report). */
export const LOCAL_TIMING_FILE = 'local-timing.json';

/** What that file holds: the run's split, the seconds per state, and each job's wall and body seconds. */
export function localTiming(run: {
  time: RunTime;
  stateSeconds: Record<string, number>;
  jobs: { name: string; stage: string; status: string; seconds?: number; body?: Interval; reusedFrom?: string }[];
}) {
  return {
    time: run.time,
    stateSeconds: run.stateSeconds,
    jobs: run.jobs.map((job) => ({
      name: job.name,
      stage: job.stage,
      status: job.status,
      seconds: job.seconds ?? null,
      bodySeconds: job.body ? (job.body.end - job.body.start) / 1000 : null,
      ...(job.reusedFrom ? { reusedFrom: job.reusedFrom } : {}),
    })),
  };
}

/** One line: the wall time and its split, then the execution's own split when there was one. */
export function timeLine(time: RunTime): string {
  const line =
    `${time.wallSeconds.toFixed(1)}s wall: ${time.jobBodySeconds.toFixed(1)}s inside job bodies ` +
    `(${Math.round(time.jobBodyShare * 100)} %), ${time.overheadSeconds.toFixed(1)}s pipeline overhead ` +
    '(synthesis, orchestration, S3 copies, process start, imports)';
  const e = time.execution;
  return e
    ? `${line}; the execution alone ${e.seconds.toFixed(1)}s, ${Math.round(e.jobBodyShare * 100)} % inside job bodies`
    : line;
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

/**
 * The whole pipeline, locally: the synthesized state machine, the real handlers, the real
 * jobs on tiny models, moto S3/KMS. One full run (with the canary audit on) is shared by
 * every assertion about the outputs; a second run fails a job on purpose (through the local backend, never the job
 * code) and checks that the execution stops there.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/commands/run.js';
import { generateExample } from '../../examples/generate.js';
import { FAIL_STAGE_ENV } from '../../local/sagemaker/index.js';
import { browserMissing, renderInBrowser } from '../helpers/browser.js';
import { linkSharedTinyModels } from '../helpers/tiny-models.js';

const SMALL_CONFIG = {
  seed: 3,
  // Two canaries: the audit runs in this same run, so its test shares the run (docs/privacy.md).
  privacy: { epsilon: 8, audit: { canaries: 2 } },
  generator: { epochs: 1, batchSize: 4, learningRate: 0.001, maxLength: 64, lora: { r: 2, alpha: 4 } },
  reward: { epochs: 1, batchSize: 4, learningRate: 0.001, maxLength: 64, lora: { r: 2, alpha: 4 } },
  synthesis: { queries: 6, candidates: 2, maxNewTokens: 6, fewShot: 1, attemptsPerQuery: 4 },
  filter: { keepFraction: 0.34 },
  refinement: { rounds: 2, critiqueMaxNewTokens: 4 },
  target: { epochs: 1, batchSize: 2, learningRate: 0.001, maxLength: 64, lora: { r: 2, alpha: 4 } },
  // Three test records: below the default minimum of 50 nothing would be released.
  evaluation: { maxNewTokens: 6, minTestRecords: 3 },
  compute: { maxRuntime: 600 },
};

let work: string;
let files: { train: string; test: string; seeds: string; config: string };

const jsonl = (rows: unknown[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
const readJsonl = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, any>);

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );

/** Every log a local run in `wd` wrote: the Lambdas', the warm job process's and each job's. */
const runLogs = (wd: string) =>
  [
    join(wd, 'lambda.log'),
    join(wd, 'warm-job-process.log'),
    ...readdirSync(join(wd, 'jobs')).map((job) => join(wd, 'jobs', job, 'job.log')),
  ].filter((p) => existsSync(p));

/** Runs the CLI in-process; returns the exit code, the parsed last line of stdout and the progress lines. */
async function runCli(args: string[]) {
  const out: string[] = [];
  const progress: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const err = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void progress.push(a.join(' ')));
  try {
    const code = await run(args);
    return { code, result: JSON.parse(out.at(-1)!) as Record<string, any>, progress };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'rewardds-e2e-'));
  const example = generateExample({ seed: 11, train: 12, test: 3, seeds: 3 });
  files = {
    train: join(work, 'clinic', 'train.jsonl'),
    test: join(work, 'test.jsonl'),
    seeds: join(work, 'seeds.jsonl'),
    config: join(work, 'config.json'),
  };
  mkdirSync(join(work, 'clinic'), { recursive: true });
  writeFileSync(files.train, jsonl(example.train));
  writeFileSync(files.test, jsonl(example.test));
  writeFileSync(files.seeds, jsonl(example.seeds));
  writeFileSync(files.config, JSON.stringify(SMALL_CONFIG));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a full local run', () => {
  let code: number;
  let result: Record<string, any>;
  let progress: string[];
  let out: string;
  let priv: string;
  let synth: string;

  beforeAll(async () => {
    await linkSharedTinyModels(join(work, 'wd'));
    ({ code, result, progress } = await runCli([
      '--local',
      files.train,
      '--test',
      files.test,
      '--seeds',
      files.seeds,
      '--config',
      files.config,
      '--workdir',
      join(work, 'wd'),
      '--json',
    ]));
    out = result.outputDir;
    priv = join(out, 'private');
    synth = join(out, 'synthesis');
  }, 900_000);

  it('succeeds and reports the run as the CLI promises', () => {
    expect(code).toBe(0);
    expect(result.status).toBe('succeeded');
    expect(result.runId).toMatch(/^clinic-[0-9a-f]{8}$/);
    expect(result.outputDir).toBe(join(work, 'wd', 'runs', result.runId));
    expect(result.failure).toBeUndefined();
    expect(result.reportPath).toBe(join(synth, 'report', 'report.html'));
    expect(existsSync(join(synth, 'report', 'report.json'))).toBe(true);
  });

  it('runs every job as a fork of the warm job process and splits the wall time', () => {
    const started = progress.filter((line) => / running /.test(line));
    expect(started.length).toBeGreaterThanOrEqual(14);
    for (const line of started) expect(line).toContain('running in a fork of the warm job process');
    expect(result.time.jobBodySeconds).toBeGreaterThan(0);
    expect(result.time.jobBodySeconds).toBeLessThan(result.time.wallSeconds);
    expect(result.time.overheadSeconds).toBeCloseTo(result.time.wallSeconds - result.time.jobBodySeconds, 6);
    // The execution alone: inside the command's wall time, holding every job body.
    expect(result.time.execution.seconds).toBeLessThan(result.time.wallSeconds);
    expect(result.time.execution.jobBodySeconds).toBeCloseTo(result.time.jobBodySeconds, 6);
    // Per job, in a local-only file beside the zones' copies (private-zone times never cross).
    expect(result.timingPath).toBe(join(out, 'local-timing.json'));
    const timing = JSON.parse(readFileSync(result.timingPath, 'utf8'));
    expect(timing.time).toEqual(result.time);
    expect(timing.jobs.map((j: { stage: string }) => j.stage)).toEqual(
      expect.arrayContaining(['train-generator', 'train-reward', 'build-pairs', 'evaluate', 'score']),
    );
    for (const job of timing.jobs) expect(job.bodySeconds).toBeGreaterThan(0);
    // The jobs' timing notes stay in their local job folders: never uploaded, so not in the run's copy.
    const names = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? names(join(dir, e.name)) : [e.name]));
    expect(names(out)).not.toContain('timing.json');
    expect(
      readdirSync(join(work, 'wd', 'jobs')).filter((job) => existsSync(join(work, 'wd', 'jobs', job, 'timing.json')))
        .length,
    ).toBeGreaterThanOrEqual(14);
  });

  it('carries the record ids through every stage', () => {
    const train = readJsonl(join(priv, 'input', 'train.jsonl'));
    expect(train).toHaveLength(12 + 2); // the 12 uploaded records and the 2 inserted canaries
    const pairs = readJsonl(join(priv, 'pairs', 'pairs.jsonl'));
    expect(pairs.map((p) => p.id)).toEqual(train.map((t) => t.id));
    for (const p of pairs) expect(p.pairs).toHaveLength(3);

    const queries = readJsonl(join(synth, 'queries', 'queries.jsonl'));
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.length).toBeLessThanOrEqual(6);
    const queryIds = queries.map((q) => q.id);
    const candidates = readJsonl(join(synth, 'candidates', 'round-0', 'candidates.jsonl'));
    expect(candidates.map((c) => c.id)).toEqual(queryIds);
    for (const c of candidates) expect(c.candidates).toHaveLength(2);
    const scores = readJsonl(join(synth, 'scores', 'round-0', 'scores.jsonl'));
    expect(scores.map((s) => s.id)).toEqual(queryIds);
    for (const s of scores)
      for (const c of s.candidates) expect(Number.isFinite(c.reward) && Number.isFinite(c.ppl)).toBe(true);
  });

  it('keeps each round pool inside the queries, one entry per query, and reports its size', () => {
    const queryIds = new Set(readJsonl(join(synth, 'queries', 'queries.jsonl')).map((q) => q.id));
    const sizes: number[] = [];
    for (let r = 0; r <= 2; r += 1) {
      const pool = readJsonl(join(synth, 'pool', `round-${r}.jsonl`));
      const ids = pool.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(queryIds.has(id)).toBe(true);
      if (r > 0) expect(pool.length).toBeGreaterThanOrEqual(sizes[r - 1]!);
      sizes.push(pool.length);
      expect(existsSync(join(synth, 'working', `round-${r}.jsonl`))).toBe(true);
    }
    expect(sizes[0]).toBe(Math.floor(queryIds.size * 0.34));
    expect(result.poolSizes).toEqual(sizes);
  });

  it('trains every model and releases only the DP ones within the budget', () => {
    for (const zoneDir of [join(priv, 'generator'), join(priv, 'reward')]) {
      const jobs = readdirSync(zoneDir);
      expect(jobs).toHaveLength(1);
      expect(existsSync(join(zoneDir, jobs[0]!, 'output', 'model', 'adapter_config.json'))).toBe(true);
    }
    for (let r = 0; r <= 2; r += 1) expect(readdirSync(join(synth, 'target', `round-${r}`)).length).toBeGreaterThan(0);
    const privacy = JSON.parse(readFileSync(join(synth, 'release', 'privacy.json'), 'utf8'));
    expect(privacy.epsilon).toBeGreaterThan(0);
    expect(privacy.epsilon).toBeLessThanOrEqual(8);
    expect(privacy.delta).toBeLessThanOrEqual(1e-5);
    expect(result.epsilon).toBe(privacy.epsilon);
    expect(result.delta).toBe(privacy.delta);
    expect(existsSync(join(synth, 'release', 'generator'))).toBe(true);
    expect(existsSync(join(synth, 'release', 'reward'))).toBe(true);
    // Nothing private in the synthesis zone: no input copy of the training records.
    expect(existsSync(join(synth, 'input', 'train.jsonl'))).toBe(false);
  });

  it('keeps every private text out of the synthesis zone and out of every log', () => {
    // A distinctive piece of each private prompt and response, training and test alike.
    const privateTexts = [...readJsonl(files.train), ...readJsonl(files.test)].flatMap((r) =>
      Object.values(r)
        .filter((t): t is string => typeof t === 'string' && t.length >= 40)
        .map((t) => t.slice(8, 40)),
    );
    expect(privateTexts.length).toBeGreaterThan(10);
    const leaks = (paths: string[]) =>
      paths.filter((path) => {
        const text = readFileSync(path).toString('utf8');
        return privateTexts.some((t) => text.includes(t));
      });
    // The check can see private text: the private zone holds the normalized input.
    expect(leaks(filesUnder(priv)).length).toBeGreaterThan(0);
    expect(leaks(filesUnder(synth))).toEqual([]);
    const logs = runLogs(join(work, 'wd'));
    expect(logs.length).toBeGreaterThan(10);
    expect(leaks(logs)).toEqual([]);
  });

  it('keeps every private-zone timing and size out of the synthesis zone; only N crosses', () => {
    // The private zone keeps its jobs' records: start, end and billable seconds of each.
    const privateJobs = readdirSync(join(priv, 'jobs')).map(
      (f) => JSON.parse(readFileSync(join(priv, 'jobs', f), 'utf8')) as Record<string, any>,
    );
    expect(privateJobs.map((j) => j.stage).sort()).toEqual([
      'audit-canaries',
      'build-pairs',
      'evaluate',
      'train-generator',
      'train-reward',
    ]);
    for (const job of privateJobs) expect(job.zone).toBe('private');
    // The synthesis zone holds synthesis jobs' records only, and the report lists only those.
    const synthJobs = readdirSync(join(synth, 'jobs')).map(
      (f) => JSON.parse(readFileSync(join(synth, 'jobs', f), 'utf8')) as Record<string, any>,
    );
    expect(synthJobs.length).toBeGreaterThan(0);
    for (const job of synthJobs) expect(job.zone).toBe('synthesis');
    const report = JSON.parse(readFileSync(join(synth, 'report', 'report.json'), 'utf8'));
    for (const job of report.jobs) expect(job.zone).toBe('synthesis');
    // No private job's start or end appears in any synthesis-zone file (ISO times to the millisecond).
    const privateTimings = privateJobs.flatMap((j) => [j.start, j.end].filter((t): t is string => Boolean(t)));
    expect(privateTimings.length).toBe(10);
    const textFiles = filesUnder(synth).filter((p) => /\.(json|jsonl|html)$/.test(p));
    const leaks = textFiles.filter((p) => {
      const text = readFileSync(p, 'utf8');
      return privateTimings.some((t) => text.includes(t));
    });
    expect(leaks).toEqual([]);
    // Nor the DP trainings' or the evaluation's own wall time: their metrics stay private, and the
    // released evaluation carries the aggregates only.
    expect(JSON.parse(readFileSync(join(priv, 'eval', 'metrics.json'), 'utf8'))).toHaveProperty('seconds');
    expect(JSON.parse(readFileSync(join(synth, 'eval', 'metrics.json'), 'utf8'))).not.toHaveProperty('seconds');
    expect(textFiles.filter((p) => p.startsWith(join(synth, 'release')) && p.endsWith('metrics.json'))).toEqual([]);
    // The one private figure that crosses by design: N, the training record count (docs/privacy.md).
    expect(JSON.parse(readFileSync(join(synth, 'release', 'privacy.json'), 'utf8')).records).toBe(12 + 2);
  });

  it('audits the canaries: the aggregates reach the report, no secret reaches the synthesis zone or a log', () => {
    const canaries = readJsonl(join(priv, 'input', 'canaries.jsonl'));
    expect(canaries.map((c) => c.inserted)).toEqual([true, true, false, false]);
    const secrets = canaries.map((c) => c.secret as string);
    for (const secret of secrets) expect(secret).toMatch(/^\d{10}$/);
    // The inserted ones trained the proxies; the check below can see them where they belong.
    const train = readFileSync(join(priv, 'input', 'train.jsonl'), 'utf8');
    expect(secrets.filter((s) => train.includes(s))).toEqual(secrets.slice(0, 2));

    const released = JSON.parse(readFileSync(join(synth, 'audit', 'metrics.json'), 'utf8'));
    expect(Object.keys(released).sort()).toEqual([
      'auc',
      'canaries',
      'candidates',
      'chanceExposure',
      'exposures',
      'heldOut',
      'maxExposure',
      'scanned',
      'secretsInSynthetic',
    ]);
    expect(released).toMatchObject({ canaries: 2, heldOut: 2, scanned: true, secretsInSynthetic: 0 });
    expect(released.exposures).toHaveLength(2);
    const report = JSON.parse(readFileSync(join(synth, 'report', 'report.json'), 'utf8'));
    expect(report.canaryAudit).toMatchObject({ canaries: 2, exposures: released.exposures, auc: released.auc });
    expect(readFileSync(result.reportPath, 'utf8')).toContain('Empirical privacy audit (canaries)');

    const logs = runLogs(join(work, 'wd'));
    const holding = (paths: string[]) =>
      paths.filter((p) => secrets.some((secret) => readFileSync(p).toString('utf8').includes(secret)));
    expect(holding([...filesUnder(synth), ...logs])).toEqual([]);
  });

  it('evaluates the base target and every round on the test set, aggregate numbers only', () => {
    const rows = result.evaluation.rows as {
      model: string;
      n: number;
      rougeL: number;
      bleu: number;
      exactMatch: number;
    }[];
    expect(rows.map((r) => r.model)).toEqual(['base', 'round-0', 'round-1', 'round-2']);
    for (const row of rows) {
      expect(row.n).toBe(3);
      for (const m of [row.rougeL, row.bleu, row.exactMatch]) expect(Number.isFinite(m)).toBe(true);
    }
  });

  // The report as its reader sees it, from this very run (skipped without chromium outside CI).
  it.skipIf(browserMissing() !== null && !process.env.CI)(
    'renders a report whose every chart draws in headless chromium, offline, within 1280 px',
    async () => {
      const missing = browserMissing();
      if (missing) throw new Error(`CI is set and the browser cannot run: ${missing}`);
      const page = await renderInBrowser(result.reportPath, { name: 'e2e-report', boxes: ['.summary-card'] });
      expect(page.consoleErrors).toEqual([]);
      expect(page.requests).toEqual([]);
      expect(page.scrollWidth).toBeLessThanOrEqual(1280);
      expect(page.charts.map((c) => c.id)).toEqual(
        expect.arrayContaining([
          'chart-rewards-round-0',
          'chart-pool-size',
          'chart-evaluation',
          'chart-privacy',
          'chart-canary',
        ]),
      );
      expect(page.charts.filter((c) => c.marks === 0)).toEqual([]);
      expect(page.boxes['.summary-card']!.bottom).toBeLessThanOrEqual(800);
    },
    120_000,
  );
});

describe('a job that fails', () => {
  it('fails the execution in that state with the job reason, records failure.json and runs nothing later', async () => {
    // The tiny base models the full run built: a fresh workdir would build them again.
    const models = join(work, 'wd', 'models');
    mkdirSync(join(work, 'wd-fail'), { recursive: true });
    if (existsSync(models)) symlinkSync(models, join(work, 'wd-fail', 'models'));
    process.env[FAIL_STAGE_ENV] = 'train-generator';
    let code: number;
    let result: Record<string, any>;
    try {
      ({ code, result } = await runCli([
        '--local',
        files.train,
        '--config',
        files.config,
        '--workdir',
        join(work, 'wd-fail'),
        '--json',
      ]));
    } finally {
      delete process.env[FAIL_STAGE_ENV];
    }
    expect(code).toBe(1);
    expect(result.status).toBe('failed');
    expect(result.failure.state).toBe('DP-train generation proxy');
    // Local mode shows the data owner the raw reason, from the private zone...
    expect(result.failure.reason).toContain('injected failure: REWARDDS_LOCAL_FAIL_STAGE names stage train-generator');
    const failure = JSON.parse(readFileSync(join(result.outputDir, 'synthesis', 'failure.json'), 'utf8'));
    expect(failure.state).toBe('DP-train generation proxy');
    expect(failure.error).toBe('JobFailed');
    // ...while the synthesis zone gets a phrase of the fixed vocabulary only.
    expect(failure.cause).toMatch(
      /^DP-train generation proxy: \S+ Failed: failed; the reason stays in the private zone \(its job record and log\)$/,
    );
    // Prepare run happened; nothing after the failed job did.
    expect(existsSync(join(result.outputDir, 'private', 'input', 'train.jsonl'))).toBe(true);
    expect(existsSync(join(result.outputDir, 'private', 'generator'))).toBe(false);
    expect(existsSync(join(result.outputDir, 'private', 'pairs'))).toBe(false);
    expect(existsSync(join(result.outputDir, 'synthesis', 'release'))).toBe(false);
    expect(existsSync(join(result.outputDir, 'synthesis', 'report'))).toBe(false);
  }, 300_000);
});

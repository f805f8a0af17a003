import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { jobCost, ON_DEMAND_USD_PER_HOUR, stageTotals } from '../../functions/report/costs.js';
import { DistributionAccumulator, quantile } from '../../functions/report/distribution.js';
import { createHandler } from '../../functions/report/handler.js';
import type { ReportDocument } from '../../functions/report/report-document.js';
import { resolveConfig } from '../../functions/prepare-run/prepare.js';
import { escapeHtml, num, renderReportHtml } from '../../functions/report/report-html.js';
import { planPrivacy } from '../../core/privacy/index.js';
import { parseRunConfig } from '../../core/config/index.js';
import { memoryS3, recordingLogger } from '../helpers/memory-s3.js';

const SYNTHESIS = 'rewardds-synthesis-111122223333';
const SYNTHESIS_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/synthesis-0001';
const RUN_ID = 'clinic-qa-3f9a2c1d';
const NOW = new Date('2026-03-02T18:00:00.000Z');
const R = `runs/${RUN_ID}`;

const runConfig = parseRunConfig({
  generator: { batchSize: 40 },
  reward: { batchSize: 40 },
  refinement: { rounds: 1 },
  synthesis: { candidates: 3 },
});
const plan = planPrivacy({ records: 400, config: runConfig });
const run = {
  runId: RUN_ID,
  records: 400,
  rounds: 1,
  hasTest: true,
  hasSeeds: true,
  plan,
  config: resolveConfig({ ...runConfig, synthesis: { ...runConfig.synthesis, queries: 8 } }, 400),
};
const release = { epsilon: plan.epsilon, delta: plan.delta, privacyUri: `s3://${SYNTHESIS}/${R}/release/privacy.json` };

const jsonl = (records: unknown[]) => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;

/** Eight queries, three candidates each; rewards q*3+c, perplexities 10+q*3+c. */
function scores() {
  return Array.from({ length: 8 }, (_, q) => ({
    id: `q-${String(q).padStart(6, '0')}`,
    prompt: `synthetic prompt ${q}`,
    candidates: [0, 1, 2].map((c) => ({ text: `answer ${q}.${c}`, reward: q * 3 + c, ppl: 10 + q * 3 + c })),
  }));
}

function jobRecord(
  jobName: string,
  stage: string,
  state: string,
  round: number | null,
  start: string,
  end: string,
  billableSeconds: number | null,
  instanceType: string,
  instanceCount = 1,
) {
  return {
    jobName,
    stage,
    round,
    state,
    zone: stage.startsWith('train-') && stage !== 'train-target' ? 'private' : 'synthesis',
    kind: stage.startsWith('train-') ? 'training' : 'processing',
    start,
    end,
    billableSeconds,
    instanceType,
    instanceCount,
    spot: false,
  };
}

function putRun(s3: ReturnType<typeof memoryS3>) {
  s3.put(SYNTHESIS, `${R}/run.json`, JSON.stringify({ ...run, counts: { train: 400, test: 50, seeds: 12 } }));
  s3.put(
    SYNTHESIS,
    `${R}/release/privacy.json`,
    JSON.stringify({
      runId: RUN_ID,
      epsilon: 7.91,
      delta: 1e-5,
      accountant: 'rdp',
      neighbouring: 'add-remove',
      targetEpsilon: 8,
      records: 400,
      mechanisms: {
        generator: {
          stage: 'train-generator',
          sampleRate: 0.1,
          steps: 30,
          noiseMultiplier: 1.21,
          clipNorm: 1,
          epsilon: 5.6,
          selfReportedEpsilon: 5.6,
        },
        reward: {
          stage: 'train-reward',
          sampleRate: 0.1,
          steps: 30,
          noiseMultiplier: 1.21,
          clipNorm: 1,
          epsilon: 5.6,
          selfReportedEpsilon: 5.6,
        },
      },
    }),
  );
  s3.put(SYNTHESIS, `${R}/queries/queries.jsonl`, jsonl(scores().map(({ id, prompt }) => ({ id, prompt }))));
  s3.put(
    SYNTHESIS,
    `${R}/queries/metrics.json`,
    JSON.stringify({ produced: 8, attempts: 11, duplicatesDropped: 3, note: '<script>alert(1)</script>' }),
  );
  s3.put(
    SYNTHESIS,
    `${R}/candidates/round-0/candidates.jsonl`,
    jsonl(scores().map(({ id, prompt, candidates }) => ({ id, prompt, candidates: candidates.map((c) => c.text) }))),
  );
  s3.put(SYNTHESIS, `${R}/candidates/round-0/metrics.json`, JSON.stringify({ queries: 8, candidates: 24 }));
  s3.put(SYNTHESIS, `${R}/candidates/round-1/metrics.json`, JSON.stringify({ items: 2, candidates: 6 }));
  s3.put(SYNTHESIS, `${R}/scores/round-1/metrics.json`, JSON.stringify({ queries: 2, candidates: 6 }));
  s3.put(SYNTHESIS, `${R}/scores/round-0/scores.jsonl`, jsonl(scores()));
  s3.put(
    SYNTHESIS,
    `${R}/scores/round-0/metrics.json`,
    JSON.stringify({ records: 8, candidates: 24, seconds: 12.5, perRecord: [1, 2] }),
  );
  // Pool round 0 keeps ⌊8/8⌋ = 1 query: the best, q7's top candidate.
  s3.put(
    SYNTHESIS,
    `${R}/pool/round-0.jsonl`,
    jsonl([{ id: 'q-000007', prompt: 'synthetic prompt 7', response: 'answer 7.2', reward: 23 }]),
  );
  s3.put(
    SYNTHESIS,
    `${R}/working/round-0.jsonl`,
    jsonl(scores().map((s) => ({ id: s.id, prompt: s.prompt, chosen: 'c', rejected: 'r', reward: 0 }))),
  );
  s3.put(
    SYNTHESIS,
    `${R}/candidates/round-1/candidates.jsonl`,
    jsonl(
      scores()
        .slice(0, 2)
        .map(({ id, prompt }) => ({ id, prompt, candidates: ['a', 'b', 'c'] })),
    ),
  );
  s3.put(SYNTHESIS, `${R}/scores/round-1/scores.jsonl`, jsonl(scores().slice(0, 2)));
  s3.put(
    SYNTHESIS,
    `${R}/pool/round-1.jsonl`,
    jsonl([
      { id: 'q-000007', prompt: 'p', response: 'answer 7.2', reward: 23 },
      { id: 'q-000001', prompt: 'p', response: 'x', reward: 25 },
    ]),
  );
  s3.put(SYNTHESIS, `${R}/working/round-1.jsonl`, jsonl(scores().map((s) => ({ id: s.id }))));
  s3.put(
    SYNTHESIS,
    `${R}/target/round-0/rds-tgt-0-c3/output/model/metrics.json`,
    JSON.stringify({ lossFirst: 2.5, lossLast: 1.25, losses: [2.5, 1.25] }),
  );
  s3.put(
    SYNTHESIS,
    `${R}/eval/metrics.json`,
    JSON.stringify({
      rows: [
        { model: 'base', n: 50, rougeL: 0.2, bleu: 5.1 },
        { model: 'round-0', n: 50, rougeL: 0.3, bleu: 8.4 },
      ],
    }),
  );
  const jobs = [
    jobRecord(
      'rds-gen-1-a1',
      'train-generator',
      'DP-train generation proxy',
      null,
      '2026-03-02T10:00:00Z',
      '2026-03-02T10:30:00Z',
      1700,
      'ml.g5.2xlarge',
    ),
    jobRecord(
      'rds-tgt-0-c3',
      'train-target',
      'Fine-tune target (round 0)',
      0,
      '2026-03-02T12:00:00Z',
      '2026-03-02T13:00:00Z',
      3500,
      'ml.g5.12xlarge',
      2,
    ),
    jobRecord(
      'rds-syn-1-b2',
      'synthesize-queries',
      'Synthesize <queries> & "more"',
      null,
      '2026-03-02T11:00:00Z',
      '2026-03-02T11:10:00Z',
      null,
      'ml.g5.2xlarge',
    ),
    jobRecord(
      'rds-loc-1-d4',
      'score',
      'Score candidates',
      0,
      '2026-03-02T11:20:00Z',
      '2026-03-02T11:21:00Z',
      null,
      'local',
    ),
  ];
  for (const job of jobs) s3.put(SYNTHESIS, `${R}/jobs/${job.jobName}.json`, JSON.stringify(job));
}

describe('report', () => {
  let s3: ReturnType<typeof memoryS3>;
  beforeEach(() => {
    s3 = memoryS3();
    putRun(s3);
  });
  const handler = () =>
    createHandler({
      s3: s3.client,
      config: { synthesisBucket: SYNTHESIS, synthesisKeyArn: SYNTHESIS_KEY },
      logger: recordingLogger(),
      now: () => NOW,
    });

  it('writes report.json and report.html to the synthesis bucket with the synthesis key', async () => {
    const out = await handler()({ runId: RUN_ID, run, release });
    expect(out).toEqual({
      reportUri: `s3://${SYNTHESIS}/${R}/report/report.json`,
      htmlUri: `s3://${SYNTHESIS}/${R}/report/report.html`,
    });
    const puts = s3.mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    const sse = { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: SYNTHESIS_KEY, BucketKeyEnabled: true };
    const report = s3.json(SYNTHESIS, `${R}/report/report.json`) as ReportDocument;
    expect(puts).toEqual([
      {
        Bucket: SYNTHESIS,
        Key: `${R}/report/report.json`,
        Body: JSON.stringify(report, null, 2),
        ContentType: 'application/json',
        ...sse,
      },
      {
        Bucket: SYNTHESIS,
        Key: `${R}/report/report.html`,
        Body: renderReportHtml(report),
        ContentType: 'text/html; charset=utf-8',
        ...sse,
      },
    ]);
  });

  it('reads the synthesis bucket only', async () => {
    await handler()({ runId: RUN_ID, run, release });
    const buckets = new Set(s3.mock.calls().map((call) => (call.args[0].input as { Bucket?: string }).Bucket));
    expect([...buckets]).toEqual([SYNTHESIS]);
  });

  it('takes the counts from the jobs’ metrics and never streams a queries or candidates file', async () => {
    await handler()({ runId: RUN_ID, run, release });
    const read = s3.mock
      .commandCalls(GetObjectCommand)
      .map((call) => call.args[0].input.Key!)
      .filter((key) => key.endsWith('.jsonl'));
    expect(read.filter((key) => /queries\.jsonl$|candidates\.jsonl$/.test(key))).toEqual([]);
  });

  it('counts every stage, per round', async () => {
    await handler()({ runId: RUN_ID, run, release });
    const report = s3.json(SYNTHESIS, `${R}/report/report.json`) as ReportDocument;
    expect(report.counts.map((c) => [c.state, c.round, c.what, c.count])).toEqual([
      ['Prepare run', null, 'private records (count only)', 400],
      ['Prepare run', null, 'test records (count only)', 50],
      ['Prepare run', null, 'public seed prompts', 12],
      ['Synthesize queries', null, 'queries', 8],
      ['Sample candidates', 0, 'candidates', 24],
      ['Score candidates', 0, 'scored candidates', 24],
      ['Filter by reward', 0, 'pool', 1],
      ['Filter by reward', 0, 'working set', 8],
      ['Refine round 1', 1, 'candidates', 6],
      ['Score candidates', 1, 'scored candidates', 6],
      ['Gate refined samples', 1, 'pool', 2],
      ['Gate refined samples', 1, 'working set', 8],
    ]);
    expect(report.pools.map((p) => [p.round, p.size, p.working, p.reward?.min, p.reward?.max])).toEqual([
      [0, 1, 8, 23, 23],
      [1, 2, 8, 23, 25],
    ]);
  });

  it('gives reward and perplexity distributions before and after filtering', async () => {
    await handler()({ runId: RUN_ID, run, release });
    const { distributions } = s3.json(SYNTHESIS, `${R}/report/report.json`) as ReportDocument;
    // Rewards 0…23 over all 24 candidates; the pool keeps q7's reward-23, ppl-33 answer.
    expect(distributions.before!.reward).toMatchObject({
      count: 24,
      mean: 11.5,
      min: 0,
      median: 11.5,
      max: 23,
      p25: 5.75,
      sampled: false,
    });
    expect(distributions.before!.ppl).toMatchObject({ count: 24, mean: 21.5, min: 10, max: 33 });
    expect(distributions.after!.reward).toMatchObject({ count: 1, mean: 23, min: 23, max: 23 });
    expect(distributions.after!.ppl).toMatchObject({ count: 1, mean: 33 });
    expect(distributions.before!.reward.histogram.counts.reduce((a, b) => a + b, 0)).toBe(24);
  });

  it('bins the candidates and the pool of each round on shared edges, with the threshold that round applied', async () => {
    await handler()({ runId: RUN_ID, run, release });
    const { rewardsByRound, jobs } = s3.json(SYNTHESIS, `${R}/report/report.json`) as ReportDocument;
    const [r0, r1] = rewardsByRound!;
    // Round 0: rewards 0…23 over 24 candidates; the pool keeps only the 23, in the last bin.
    expect(r0!.candidates.count).toBe(24);
    expect(r0!.candidates.histogram.edges).toEqual(r0!.pool!.histogram.edges);
    expect(r0!.candidates.histogram.edges[0]).toBe(0);
    expect(r0!.candidates.histogram.edges.at(-1)).toBe(23);
    expect(r0!.candidates.histogram.counts.reduce((a, b) => a + b, 0)).toBe(24);
    expect(r0!.pool!.histogram.counts.indexOf(1)).toBe(19);
    expect(r0!.threshold).toBe(23);
    // Round 1: refined rewards 0…5 and the pool's 23 and 25 over the union [0, 25]; τ from pool 0.
    expect(r1!.candidates.histogram.edges.at(-1)).toBe(25);
    expect(r1!.candidates.histogram.counts.slice(0, 5)).toEqual([2, 1, 1, 1, 1]);
    expect(r1!.pool).toMatchObject({ count: 2 });
    expect(r1!.pool!.histogram.counts[18]! + r1!.pool!.histogram.counts[19]!).toBe(2);
    expect(r1!.threshold).toBe(23);
    expect(jobs.map((j) => j.start)).toContain('2026-03-02T11:00:00Z');
  });

  it('reports durations and a labeled cost estimate from the synthesis-zone job records only', async () => {
    await handler()({ runId: RUN_ID, run, release });
    const report = s3.json(SYNTHESIS, `${R}/report/report.json`) as ReportDocument;
    // rds-gen-1-a1 (a private-zone record, as an older version wrote it) is left out, and the report says why.
    expect(report.jobs.map((j) => [j.jobName, j.seconds, j.billedSeconds, j.estimatedUsd])).toEqual([
      ['rds-syn-1-b2', 600, 600, (600 / 3600) * 1.515],
      ['rds-loc-1-d4', 60, 60, null],
      ['rds-tgt-0-c3', 3600, 3500, (3500 / 3600) * 7.09 * 2],
    ]);
    // One job has no price, so there is no honest total.
    expect(report.cost.estimatedUsd).toBeNull();
    expect(report.cost.note).toMatch(/^Estimate only/);
    expect(report.cost.note).toContain(
      'Private-zone jobs (Build reward pairs, the two DP trainings, Evaluate) are not shown',
    );
    const html = s3.text(SYNTHESIS, `${R}/report/report.html`)!;
    expect(html).not.toContain('rds-gen-1-a1');
    expect(html).not.toContain('2026-03-02T10:00:00Z');
    expect(report.stageMetrics).toContainEqual({
      state: 'Fine-tune target (round 0)',
      round: 0,
      metrics: { lossFirst: 2.5, lossLast: 1.25 },
    });
    expect(report.stageMetrics).toContainEqual({
      state: 'Score candidates',
      round: 0,
      metrics: { records: 8, candidates: 24, seconds: 12.5 },
    });
    expect(report.privacy!.epsilon).toBe(7.91);
    expect(report.evaluation).toHaveLength(2);
  });

  it('says why the evaluation is withheld, noised, or exact and not DP', async () => {
    const evaluationHtml = async (released: object) => {
      s3.put(SYNTHESIS, `${R}/eval/metrics.json`, JSON.stringify(released));
      await handler()({ runId: RUN_ID, run, release });
      const html = s3.text(SYNTHESIS, `${R}/report/report.html`)!;
      return html.slice(html.indexOf('<h2>Evaluation</h2>'), html.indexOf('<h2>Stage metrics</h2>'));
    };
    const withheld = await evaluationHtml({
      rows: [],
      withheld: 'the test set has 3 records, fewer than evaluation.minTestRecords = 50',
    });
    expect(withheld).toContain('Not released: the test set has 3 records, fewer than evaluation.minTestRecords = 50.');
    expect(withheld).not.toContain('<table>');
    const noised = await evaluationHtml({
      rows: [{ model: 'base', n: 120, rougeL: 0.21 }],
      noise: { mechanism: 'laplace', epsilon: 0.5, delta: 0, scale: 0.0333, withheldMetrics: ['bleu'] },
    });
    expect(noised).toContain('Differentially private: each mean carries laplace noise');
    expect(noised).toContain('bleu not released');
    const exact = await evaluationHtml({ rows: [{ model: 'base', n: 120, rougeL: 0.21 }] });
    expect(exact).toContain('not differentially private (evaluation.noise is off)');
  });

  it('shows what applies to the noised evaluation in the privacy tables, and why q, steps and C do not', async () => {
    const privacy = s3.json(SYNTHESIS, `${R}/release/privacy.json`) as { mechanisms: object };
    s3.put(
      SYNTHESIS,
      `${R}/release/privacy.json`,
      JSON.stringify({
        ...privacy,
        mechanisms: { ...privacy.mechanisms, evaluation: { mechanism: 'gaussian', epsilon: 0.5, delta: 5e-6 } },
      }),
    );
    s3.put(
      SYNTHESIS,
      `${R}/eval/metrics.json`,
      JSON.stringify({
        rows: [{ model: 'base', n: 120, rougeL: 0.21 }],
        noise: { mechanism: 'gaussian', epsilon: 0.5, delta: 5e-6, scale: 0.0421, withheldMetrics: ['bleu'] },
      }),
    );
    await handler()({ runId: RUN_ID, run, release });
    const html = s3.text(SYNTHESIS, `${R}/report/report.html`)!;
    const rows = (from: string, to: string) =>
      html
        .slice(html.indexOf(from), html.indexOf(to, html.indexOf(from)))
        .split('<tr>')
        .filter((row) => row.startsWith('<td>evaluation</td>'));
    const [tableRow] = rows('<h2>Privacy</h2>', '</section>');
    const [chartRow] = rows('data-chart="chart-privacy"', '</figure>');
    for (const row of [tableRow!, chartRow!]) {
      expect(row).not.toContain('<td>–</td>');
      expect(row).toContain('<td>gaussian noise on each mean, scale 0.0421, δ = 5.000e-6</td>');
      expect(row).toContain('<td>not applicable: one release of the means</td>');
      expect(row).toContain('<td>0.5 (reserved by the plan)</td>');
    }
    expect(tableRow).toContain('<td>not applicable: every test record counts once, no sampling</td>');
    expect(tableRow).toContain('sensitivity 1/n per mean</td>');
    expect(html).toContain('<td>generator</td><td>0.1</td><td>30</td><td>1.21</td><td>1</td><td>5.6</td><td>5.6</td>');
  });

  it('draws the canary audit from the released aggregates, and no section without them', async () => {
    await handler()({ runId: RUN_ID, run, release });
    expect((s3.json(SYNTHESIS, `${R}/report/report.json`) as ReportDocument).canaryAudit).toBeNull();
    expect(s3.text(SYNTHESIS, `${R}/report/report.html`)).not.toContain('Empirical privacy audit');

    s3.put(
      SYNTHESIS,
      `${R}/audit/metrics.json`,
      JSON.stringify({
        canaries: 2,
        heldOut: 2,
        candidates: 10_000,
        exposures: [1.25, 13.2878],
        chanceExposure: Math.LOG2E,
        maxExposure: 13.2878,
        auc: 0.75,
        secretsInSynthetic: 1,
        scanned: true,
      }),
    );
    await handler()({ runId: RUN_ID, run, release });
    const report = s3.json(SYNTHESIS, `${R}/report/report.json`) as ReportDocument;
    expect(report.canaryAudit).toEqual({
      canaries: 2,
      exposures: [1.25, 13.2878],
      chanceExposure: Math.LOG2E,
      auc: 0.75,
      secretsInSynthetic: 1,
    });
    const html = s3.text(SYNTHESIS, `${R}/report/report.html`)!;
    expect(html).toContain('Empirical privacy audit (canaries)');
    expect(html).toContain('Membership-inference AUC 0.75');
    expect(html).toContain('canary secrets found in the synthetic data: 1');
  });

  it('renders readable, escaped HTML with no scripts', async () => {
    await handler()({ runId: RUN_ID, run, release });
    const html = s3.text(SYNTHESIS, `${R}/report/report.html`)!;
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('Synthesize &lt;queries&gt; &amp; &quot;more&quot;');
    expect(html).toContain('<h2>Privacy</h2>');
    expect(html).toContain('<th>neighbouring</th>');
    expect(html).toContain('<td>add-remove</td>');
    expect(html).toMatch(/Estimated total: no price\./);
    expect(html).toContain('<td>round-0</td><td>50</td><td>0.3</td><td>8.4</td><td>–</td>');
  });

  it('reports a run that stopped early with the missing parts marked absent', async () => {
    s3 = memoryS3();
    s3.put(SYNTHESIS, `${R}/run.json`, JSON.stringify({ ...run, counts: { train: 400, test: 50, seeds: 12 } }));
    await handler()({ runId: RUN_ID, run, release });
    const report = s3.json(SYNTHESIS, `${R}/report/report.json`) as ReportDocument;
    expect(report.privacy).toBeNull();
    expect(report.distributions).toEqual({ before: null, after: null });
    expect(report.counts.find((c) => c.what === 'queries')!.count).toBeNull();
    expect(s3.text(SYNTHESIS, `${R}/report/report.html`)).toContain('No privacy.json');
  });
});

describe('report pieces', () => {
  it('escapeHtml escapes the five HTML specials', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('num formats integers, decimals, tiny values and absences', () => {
    expect(num(12345)).toBe('12,345');
    expect(num(0.123456)).toBe('0.1235');
    expect(num(1e-5)).toBe('1.000e-5');
    expect(num(null)).toBe('–');
    expect(num(Number.NaN)).toBe('–');
  });

  it('DistributionAccumulator: exact until the reservoir fills, then sampled with exact count/mean/min/max', () => {
    const small = new DistributionAccumulator(100);
    for (const v of [5, 1, 3, 2, 4]) small.add(v);
    expect(small.summary()).toMatchObject({ count: 5, mean: 3, min: 1, median: 3, max: 5, p25: 2, sampled: false });
    const big = new DistributionAccumulator(1000, 7);
    for (let i = 0; i < 100_000; i++) big.add(i % 1000);
    const s = big.summary();
    expect(s).toMatchObject({ count: 100_000, min: 0, max: 999, sampled: true });
    expect(s.mean).toBeCloseTo(499.5, 9);
    expect(Math.abs(s.median! - 499.5)).toBeLessThan(60);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
  });

  it('jobCost multiplies billable seconds by the hourly price and the instance count', () => {
    const record = {
      jobName: 'j',
      stage: 'train-target' as const,
      round: 0,
      state: 'Fine-tune target (round 0)',
      zone: 'synthesis' as const,
      kind: 'training' as const,
      start: '2026-01-01T00:00:00Z',
      end: '2026-01-01T01:00:00Z',
      billableSeconds: 1800,
      instanceType: 'ml.g5.12xlarge',
      instanceCount: 4,
      spot: true,
    };
    expect(jobCost(record).estimatedUsd).toBeCloseTo(0.5 * ON_DEMAND_USD_PER_HOUR['ml.g5.12xlarge']! * 4, 10);
    expect(stageTotals([jobCost(record), jobCost({ ...record, jobName: 'k' })])).toEqual([
      { state: 'Fine-tune target (round 0)', jobs: 2, seconds: 7200, estimatedUsd: 2 * 0.5 * 7.09 * 4 },
    ]);
  });
});

describe('report reads only what exists', () => {
  it('lists the run once and never GETs a key that is not there', async () => {
    const s3 = memoryS3();
    s3.put(SYNTHESIS, `${R}/run.json`, JSON.stringify({ ...run, counts: { train: 400, test: 50, seeds: 12 } }));
    s3.put(SYNTHESIS, `${R}/queries/metrics.json`, '{"produced":1}');
    await createHandler({ s3: s3.client, config: { synthesisBucket: SYNTHESIS } })({ runId: RUN_ID, run, release });
    const gets = s3.mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key);
    expect(gets.sort()).toEqual([`${R}/queries/metrics.json`, `${R}/run.json`]);
    expect(s3.mock.commandCalls(ListObjectsV2Command)[0]!.args[0].input).toEqual({
      Bucket: SYNTHESIS,
      Prefix: `${R}/`,
      ContinuationToken: undefined,
    });
  });
});

/**
 * A ReportDocument the size of a large run, built through the report's own accumulators
 * (every reward really streamed in), for the size budget and the hostile-string tests.
 */
import { jobCost, PRICE_SOURCE, stageTotals } from '../../../functions/report/costs.js';
import { DistributionAccumulator } from '../../../functions/report/distribution.js';
import type { ReportDocument, RoundRewards } from '../../../functions/report/report-document.js';
import type { JobRecord } from '../../../core/contract/index.js';

/** Deterministic pseudo-normal rewards (sum of uniforms), shifted up per round. */
function rewards(seed: number) {
  let x = seed >>> 0 || 1;
  const uniform = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  return () => uniform() + uniform() + uniform() - 1.5;
}

export function syntheticReport(options: {
  rounds: number;
  queries: number;
  candidates?: number;
  name?: (s: string) => string;
}): ReportDocument {
  const { rounds, queries } = options;
  const k = options.candidates ?? 4;
  const name = options.name ?? ((s: string) => s);
  const keep = Math.round(queries / 8);
  const pools: ReportDocument['pools'] = [];
  const rewardsByRound: RoundRewards[] = [];
  let tau = -Infinity;
  for (let round = 0; round <= rounds; round++) {
    const next = rewards(round + 1);
    const all = new DistributionAccumulator();
    const pool = new DistributionAccumulator();
    for (let q = 0; q < queries; q++) {
      let best = -Infinity;
      for (let c = 0; c < k; c++) {
        const r = next() + round * 0.15;
        all.add(r);
        best = Math.max(best, r);
      }
      if (q < keep + round * (keep / 4) && best >= tau) pool.add(best);
    }
    const a = all.summary();
    const p = pool.summary();
    const [min, max] = [Math.min(a.min!, p.min ?? a.min!), Math.max(a.max!, p.max ?? a.max!)];
    rewardsByRound.push({
      round,
      candidates: { count: a.count, histogram: all.histogramOver(min, max) },
      pool: { count: p.count, histogram: pool.histogramOver(min, max) },
      threshold: round === 0 ? p.min : pools[round - 1]!.reward!.min,
    });
    pools.push({ round, size: p.count, working: keep, reward: p });
    tau = p.min ?? tau;
  }
  const start = Date.parse('2026-03-02T08:00:00Z');
  let clock = start;
  const records: JobRecord[] = [];
  const job = (
    stage: JobRecord['stage'],
    state: string,
    round: number | null,
    seconds: number,
    zone: 'private' | 'synthesis',
    instanceType: string,
  ) => {
    records.push({
      jobName: name(`rds-${stage}-${round ?? 'x'}-3f9a2c1d`),
      stage,
      round,
      state: name(state),
      zone,
      kind: stage.startsWith('train') ? 'training' : 'processing',
      start: new Date(clock).toISOString(),
      end: new Date(clock + seconds * 1000).toISOString(),
      billableSeconds: seconds,
      instanceType,
      instanceCount: 1,
      spot: false,
    });
    clock += seconds * 1000 + 20_000;
  };
  job('train-generator', 'DP-train generation proxy', null, 3600, 'private', 'ml.g5.2xlarge');
  job('train-reward', 'DP-train reward proxy', null, 2400, 'private', 'ml.g5.2xlarge');
  job('synthesize-queries', 'Synthesize queries', null, 900, 'synthesis', 'ml.g5.xlarge');
  for (let round = 0; round <= rounds; round++) {
    job(
      round === 0 ? 'sample-candidates' : 'refine',
      round === 0 ? 'Sample candidates' : `Refine round ${round}`,
      round,
      1800,
      'synthesis',
      'ml.g5.xlarge',
    );
    job('score', 'Score candidates', round, 600, 'synthesis', 'ml.g5.xlarge');
    job('train-target', 'Fine-tune target', round, 2700, 'synthesis', 'ml.g5.12xlarge');
  }
  job('evaluate', 'Evaluate', null, 1200, 'synthesis', 'ml.g5.xlarge');
  const jobs = records.map((r) => jobCost(r));
  const stages = stageTotals(jobs);
  return {
    runId: name('bank-faq-3f9a2c1d'),
    generatedAt: '2026-03-02T18:00:00.000Z',
    run: {
      records: 3364,
      rounds,
      hasTest: true,
      hasSeeds: true,
      filterMethod: name('reward'),
      keepFraction: 0.125,
      queries,
      candidatesPerQuery: k,
    },
    privacy: {
      epsilon: 7.91,
      delta: 1e-5,
      accountant: name('rdp'),
      targetEpsilon: 8,
      records: 3364,
      mechanisms: {
        [name('generator')]: {
          sampleRate: 0.0119,
          steps: 840,
          noiseMultiplier: 0.92,
          clipNorm: 1,
          epsilon: 5.6,
          selfReportedEpsilon: 5.6,
        },
        [name('reward')]: {
          sampleRate: 0.0119,
          steps: 840,
          noiseMultiplier: 0.92,
          clipNorm: 1,
          epsilon: 5.6,
          selfReportedEpsilon: 5.6,
        },
      },
    },
    counts: [{ state: name('Prepare run'), round: null, what: name('private records (count only)'), count: 3364 }],
    distributions: { before: null, after: null },
    pools,
    rewardsByRound,
    stageMetrics: [
      { state: name('Synthesize queries'), round: null, metrics: { [name('queries')]: queries, note: name('ok') } },
    ],
    evaluation: [
      { model: name('base'), n: 400, rougeL: 0.21, bleu: 5.1, exactMatch: 0.01, answerAccuracy: 0.08 },
      ...Array.from({ length: rounds + 1 }, (_, r) => ({
        model: name(`round-${r}`),
        n: 400,
        rougeL: 0.3 + r * 0.01,
        bleu: 10 + r * 0.5,
        exactMatch: 0.05 + r * 0.004,
        answerAccuracy: 0.3 + r * 0.02,
        // A metric named by the run: its key reaches labels, headers and chart ids.
        ...(options.name ? { [name('customScore')]: 0.5 } : {}),
      })),
      {
        model: name('non-private'),
        n: 400,
        rougeL: 0.42,
        bleu: 20,
        exactMatch: 0.12,
        answerAccuracy: 0.55,
        nonPrivate: true,
      },
    ],
    canaryAudit: {
      canaries: 10,
      exposures: [1.2, 0.8, 2.1, 1.5, 0.4, 1.9, 1.1, 0.7, 1.6, 1.3],
      chanceExposure: 1.44,
      auc: 0.51,
      secretsInSynthetic: 0,
    },
    jobs,
    stages,
    cost: {
      estimatedUsd: jobs.reduce((s, j) => s + (j.estimatedUsd ?? 0), 0),
      priceSource: PRICE_SOURCE,
      note: name('Estimate only.'),
    },
  };
}

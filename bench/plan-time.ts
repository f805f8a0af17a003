/**
 * How long the privacy planner takes (it runs inside Prepare run and `rewardds plan`).
 * Usage: npx tsx bench/plan-time.ts [repeats=15]. Prints the median wall time per plan.
 */
import { mechanismEpsilon, planPrivacy } from '../core/privacy/index.js';
import { parseRunConfig } from '../core/config/index.js';

const repeats = Number(process.argv[2] ?? 15);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function time(run: () => unknown): number {
  run(); // warm-up: JIT, module initialisation
  const samples: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

const defaults = parseRunConfig({});
const cases: [string, () => unknown][] = [
  ['plan, defaults, 3,364 records', () => planPrivacy({ records: 3364, config: defaults })],
  ['plan, defaults, 1,693 records', () => planPrivacy({ records: 1693, config: defaults })],
  [
    'plan, split 0.3, batches 32/128, 100,000 records',
    () =>
      planPrivacy({
        records: 100_000,
        config: parseRunConfig({ privacy: { split: 0.3 }, generator: { batchSize: 32 }, reward: { batchSize: 128 } }),
      }),
  ],
  [
    'one ε (151 orders), q 0.019, σ 0.64, 159 steps',
    () => mechanismEpsilon({ sampleRate: 64 / 3364, noiseMultiplier: 0.64, steps: 159 }, 1e-5),
  ],
];
for (const [label, run] of cases) console.log(`${label.padEnd(52)} median ${time(run).toFixed(1)} ms over ${repeats}`);

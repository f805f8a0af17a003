/**
 * How long the privacy planner takes (it runs inside Prepare run and `rewardds plan`).
 * Usage: npx tsx bench/plan-time.ts [repeats=15]. Prints the cold first call and the median
 * wall time per plan, for both accountants.
 */
import { mechanismEpsilon, pldEpsilon, planPrivacy } from '../core/privacy/index.js';
import { parseRunConfig, type RunConfigInput } from '../core/config/index.js';

const repeats = Number(process.argv[2] ?? 15);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
};

// CPU time too: on a shared machine the wall clock measures the neighbours; a Lambda with one
// vCPU runs the planner's single thread at about its CPU time.
function time(run: () => unknown): { cold: number; coldCpu: number; median: number } {
  const start = performance.now();
  const cpu = process.cpuUsage();
  run(); // cold: JIT, module initialisation, empty caches
  const coldCpu = cpuMs(cpu);
  const cold = performance.now() - start;
  const samples: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  return { cold, coldCpu, median: median(samples) };
}

const config = (accountant: 'rdp' | 'pld', extra: RunConfigInput = {}) =>
  parseRunConfig({ ...extra, privacy: { ...extra.privacy, accountant } });
const large: RunConfigInput = { privacy: { split: 0.3 }, generator: { batchSize: 32 }, reward: { batchSize: 128 } };
const cases: [string, () => unknown][] = [];
for (const accountant of ['pld', 'rdp'] as const) {
  cases.push(
    [
      `${accountant}: plan, defaults, 100,000 records`,
      () => planPrivacy({ records: 100_000, config: config(accountant) }),
    ],
    [
      `${accountant}: plan, split 0.3, batches 32/128, 100,000 records`,
      () => planPrivacy({ records: 100_000, config: config(accountant, large) }),
    ],
    [`${accountant}: plan, defaults, 3,364 records`, () => planPrivacy({ records: 3364, config: config(accountant) })],
    [`${accountant}: plan, defaults, 1,693 records`, () => planPrivacy({ records: 1693, config: config(accountant) })],
  );
}
cases.push(
  [
    'rdp: one ε (151 orders), q 0.019, σ 0.64, 159 steps',
    () => mechanismEpsilon({ sampleRate: 64 / 3364, noiseMultiplier: 0.64, steps: 159 }, 1e-5),
  ],
  [
    'pld: one ε (grid 1e-4), q 0.019, σ 0.64, 159 steps',
    () => pldEpsilon([{ sampleRate: 64 / 3364, noiseMultiplier: 0.64, steps: 159 }], 1e-5),
  ],
);
// The first call of each case runs cold (no JIT, no cache): what one Lambda invocation pays.
for (const [label, run] of cases) {
  const { cold, coldCpu, median: warm } = time(run);
  console.log(
    `${label.padEnd(60)} cold ${cold.toFixed(0)} ms (CPU ${coldCpu.toFixed(0)} ms), then median ${warm.toFixed(1)} ms over ${repeats}`,
  );
}

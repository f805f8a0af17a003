/**
 * `rewardds plan`: the privacy plan a run would get, before anything is uploaded. The same
 * planner runs in Prepare run, so what this prints is what the DP jobs will be given.
 */
import { readFile } from 'node:fs/promises';
import {
  InfeasiblePlanError,
  NEIGHBOURING,
  planPrivacy,
  type AccountantName,
  type ModelPlan,
  type PrivacyPlan,
} from '../../core/privacy/index.js';
import { parseRunConfig, RunConfigError } from '../../core/config/index.js';
import { flagOptions, parseOptions, stringOptions } from '../options.js';
import { exitStatusFor, UsageError } from '../usage-error.js';

const HELP = `usage: rewardds plan --records N [--epsilon E] [--delta D] [--accountant rdp|pld] [--config run.json] [--json]

Plans the DP-SGD noise of the two proxy trainings so that, composed, they spend the
privacy budget (ε, δ) on N private records.

options:
  --records N       number of private training records (required)
  --epsilon E       total ε for both DP models together (default: the config's, else 8)
  --delta D         δ, a number below 1/N or "auto" = min(1e-5, 1/(10·N)) (default: the config's, else auto)
  --accountant A    pld (privacy loss distribution) or rdp (Rényi DP) (default: the config's, else pld)
  --config FILE     a run config JSON (batch sizes, epochs, clipNorm, split are read from it)
  --json            print one JSON object instead of a table
  -h, --help        this text

exit status: 0 planned, 1 infeasible request or bad config, 2 bad usage`;

function parsePositiveNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${flag} must be a positive number, got '${text}'`);
  }
  return value;
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new RunConfigError(path, [
      { path: '', message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})` },
    ]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RunConfigError(path, [{ path: '', message: `not valid JSON (${(error as Error).message})` }]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RunConfigError(path, [{ path: '', message: 'must be a JSON object' }]);
  }
  return value as Record<string, unknown>;
}

const ACCOUNTANT_LABEL: Record<AccountantName, string> = { pld: 'PLD', rdp: 'RDP' };

/** The `--json` document: the composed total and what each DP job is given. */
export function planSummary(plan: PrivacyPlan) {
  const model = ({ noiseMultiplier, sampleRate, steps, epsilon }: ModelPlan) => ({
    noiseMultiplier,
    sampleRate,
    steps,
    epsilon,
  });
  return {
    epsilon: plan.epsilon,
    delta: plan.delta,
    accountant: plan.accountant,
    neighbouring: NEIGHBOURING,
    generator: model(plan.generator),
    reward: model(plan.reward),
  };
}

/** One line per accountant: the σ each needs for the same target (the other may refuse it). */
function comparisonLines(plan: PrivacyPlan, other: PrivacyPlan | InfeasiblePlanError): string[] {
  const sigmas = (p: PrivacyPlan) =>
    `σ_G ${p.generator.noiseMultiplier.toFixed(4)}, σ_R ${p.reward.noiseMultiplier.toFixed(4)}`;
  const lines = [`Noise for the same target: ${ACCOUNTANT_LABEL[plan.accountant]} ${sigmas(plan)} (this plan)`];
  if (other instanceof InfeasiblePlanError) {
    const name = plan.accountant === 'pld' ? 'RDP' : 'PLD';
    lines.push(`                           ${name} cannot meet it`);
    return lines;
  }
  const pld = plan.accountant === 'pld' ? plan : other;
  const rdp = plan.accountant === 'pld' ? other : plan;
  const saved = (name: 'generator' | 'reward') =>
    (100 * (1 - pld[name].noiseMultiplier / rdp[name].noiseMultiplier)).toFixed(1);
  lines.push(
    `                           ${ACCOUNTANT_LABEL[other.accountant]} ${sigmas(other)}`,
    `PLD needs ${saved('generator')} % (generator) and ${saved('reward')} % (reward) less noise than RDP for the same ε`,
  );
  return lines;
}

export function planTable(plan: PrivacyPlan, records: number, other?: PrivacyPlan | InfeasiblePlanError): string {
  const header = ['', 'noise σ', 'sample rate q', 'steps', 'batch', 'epochs', 'clip C', 'ε alone'];
  const row = (label: string, m: ModelPlan) => [
    label,
    m.noiseMultiplier.toFixed(4),
    m.sampleRate.toPrecision(4),
    String(m.steps),
    String(m.batchSize),
    String(m.epochs),
    String(m.clipNorm),
    m.epsilon.toFixed(3),
  ];
  const rows = [header, row('generation proxy', plan.generator), row('reward proxy', plan.reward)];
  const widths = header.map((_, k) => Math.max(...rows.map((r) => (r[k] ?? '').length)));
  const lines = rows.map((r) =>
    r
      .map((cell, k) => cell.padEnd(widths[k] ?? 0))
      .join('   ')
      .trimEnd(),
  );
  return [
    `Privacy plan for ${records.toLocaleString('en-US')} records (${ACCOUNTANT_LABEL[plan.accountant]} accountant, ` +
      `add/remove-one-record DP with N public, split ${plan.split})`,
    '',
    ...lines,
    '',
    `Both trainings together: ε = ${plan.epsilon.toFixed(3)} (target ${plan.targetEpsilon}), δ = ${plan.delta.toExponential(2)}`,
    ...(other === undefined ? [] : ['', ...comparisonLines(plan, other)]),
  ].join('\n');
}

const OPTIONS = {
  ...stringOptions('records', 'epsilon', 'delta', 'accountant', 'config'),
  ...flagOptions('json'),
};

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOptions('plan', HELP, argv, OPTIONS);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  try {
    if (values.records === undefined) throw new UsageError('--records is required');
    const records = Number(values.records);
    if (!/^\s*\d+\s*$/.test(values.records) || !Number.isSafeInteger(records) || records < 1) {
      throw new UsageError(`--records must be a positive whole number, got '${values.records}'`);
    }
    const epsilon = parsePositiveNumber('--epsilon', values.epsilon);
    const delta = values.delta === 'auto' ? 'auto' : parsePositiveNumber('--delta', values.delta);
    if (values.accountant !== undefined && values.accountant !== 'rdp' && values.accountant !== 'pld') {
      throw new UsageError(`--accountant must be rdp or pld, got '${values.accountant}'`);
    }

    const raw = values.config ? await readConfigFile(values.config) : {};
    // Flags override the file before validation, so their range errors name the config key.
    const privacy = { ...(raw.privacy as Record<string, unknown> | undefined) };
    if (epsilon !== undefined) privacy.epsilon = epsilon;
    if (delta !== undefined) privacy.delta = delta;
    if (values.accountant !== undefined) privacy.accountant = values.accountant;
    const config = parseRunConfig({ ...raw, privacy }, values.config ?? 'command line');

    const plan = planPrivacy({ records, config });
    if (values.json) {
      console.log(JSON.stringify(planSummary(plan)));
      return 0;
    }
    const otherAccountant: AccountantName = plan.accountant === 'pld' ? 'rdp' : 'pld';
    let other: PrivacyPlan | InfeasiblePlanError;
    try {
      other = planPrivacy({
        records,
        config: { ...config, privacy: { ...config.privacy, accountant: otherAccountant } },
      });
    } catch (error) {
      if (!(error instanceof InfeasiblePlanError)) throw error;
      other = error;
    }
    console.log(planTable(plan, records, other));
    return 0;
  } catch (error) {
    return exitStatusFor('plan', error, HELP, [InfeasiblePlanError, RunConfigError]);
  }
}

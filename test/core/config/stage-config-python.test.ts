/**
 * The two halves of the job contract, checked against each other live: every config.json
 * that start-job builds (from the method's defaults and from the tiny example config) is
 * parsed by the jobs' own Python config classes, which refuse unknown keys and
 * out-of-range values. Each value must arrive unchanged under the Python field it maps to.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStateSchema, STAGES, type RunState } from '../../../core/contract/index.js';
import { planPrivacy } from '../../../core/privacy/index.js';
import { parseRunConfig, buildStageConfig } from '../../../core/config/index.js';
import { repoRoot, runPythonJson } from '../../helpers/python.js';

const PARSE_ALL = `
import dataclasses, json, sys
sys.path.insert(0, "jobs")
from rewardds_jobs.config import parse_stage_config
out = []
for case in json.load(sys.stdin):
    try:
        cfg = parse_stage_config(case["stage"], case["config"])
        out.append({"ok": True, "fields": json.loads(json.dumps(dataclasses.asdict(cfg), default=list))})
    except Exception as error:
        out.append({"ok": False, "error": str(error)})
print(json.dumps(out))
`;

function runState(configDocument: unknown, records: number): RunState {
  const config = parseRunConfig(configDocument);
  const plan = planPrivacy({ records, config });
  return RunStateSchema.parse({
    runId: 'clinic-qa-0a1b2c3d',
    records,
    rounds: config.refinement.rounds,
    hasTest: true,
    hasSeeds: true,
    plan,
    config: {
      ...config,
      privacy: { ...config.privacy, delta: plan.delta },
      synthesis: { ...config.synthesis, queries: config.synthesis.queries ?? records },
    },
  });
}

const camelToSnake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

describe('config.json: TypeScript builds, Python accepts', () => {
  const runs = {
    defaults: runState({}, 3364),
    'examples/tiny.config.json': runState(
      JSON.parse(readFileSync(join(repoRoot, 'examples/tiny.config.json'), 'utf8')),
      48,
    ),
    'an answer pattern': runState({ evaluation: { answerPattern: 'berth ([A-Z]-\\d{2})' } }, 1500),
  };

  it.each(Object.entries(runs))('every stage, from %s', async (_name, run) => {
    const cases = STAGES.map((stage) => ({
      stage,
      config: buildStageConfig({ stage, round: stage === 'refine' ? 1 : 0, run }),
    }));
    const parsed = await runPythonJson<{ ok: boolean; error?: string; fields?: Record<string, unknown> }[]>(
      PARSE_ALL,
      cases,
    );
    expect(parsed.map((p, i) => [cases[i]!.stage, p.ok ? 'ok' : p.error])).toEqual(cases.map((c) => [c.stage, 'ok']));
    parsed.forEach((p, i) => {
      for (const [key, value] of Object.entries(cases[i]!.config)) {
        expect(p.fields![camelToSnake(key)], `${cases[i]!.stage}: ${key}`).toEqual(value);
      }
    });
  });

  it('is refused by Python when a key is unknown (the check can fail)', async () => {
    const config = { ...buildStageConfig({ stage: 'score', round: 0, run: runs.defaults }), temperature: 1 };
    const [parsed] = await runPythonJson<{ ok: boolean; error?: string }[]>(PARSE_ALL, [{ stage: 'score', config }]);
    expect(parsed).toEqual({ ok: false, error: 'config.json: temperature: unknown key' });
  });
});

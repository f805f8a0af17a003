/**
 * Every request the builder can produce, checked against botocore's SageMaker service model
 * (the venv's botocore, one Python call for the whole grid): validate_parameters AND the
 * model's min/max/enum/pattern limits, which botocore itself does not check
 * (test/helpers/botocore_sagemaker_check.py). The grid: all stages, rounds 0–8, spot on and
 * off, a warm pool, every instance type Prepare run accepts, the longest runtimes, and the
 * longest job names and run ids.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { STAGES, type Stage } from '../../../core/contract/index.js';
import {
  buildJobRequest,
  type JobRequest,
  jobName,
  jobNamePrefix,
  MAX_JOB_ATTEMPTS,
  STAGE_TRAITS,
} from '../../../core/sagemaker/index.js';
import { INSTANCE_TYPES, roleUses } from '../../../functions/prepare-run/compute-checks.js';
import { ENV, PRIVATE_BUCKET, runState, SYNTHESIS_BUCKET } from '../../helpers/job-fixtures.js';
import { repoRoot, runPythonJson } from '../../helpers/python.js';

const CHECK = readFileSync(resolve(repoRoot, 'test/helpers/botocore_sagemaker_check.py'), 'utf8');
const MAX_ROUNDS = 8;
const RUN_ID = `r${'x'.repeat(70)}-0a1b2c3d`;
const PREFIX = jobNamePrefix(`RewardDS-${'y'.repeat(100)}`);

interface Checked {
  problems: string[];
  checked: number;
  botocore: string;
  enumsMissing: Record<string, string[]>;
}

const roundsOf = (stage: Stage) =>
  stage === 'refine'
    ? Array.from({ length: MAX_ROUNDS }, (_, i) => i + 1)
    : stage === 'train-target' || stage === 'score'
      ? Array.from({ length: MAX_ROUNDS + 1 }, (_, i) => i)
      : [0];

const models = {
  generator: `s3://${PRIVATE_BUCKET}/runs/${RUN_ID}/generator/${PREFIX}tg-0a1b2c3d-a99/output/model/`,
  reward: `s3://${PRIVATE_BUCKET}/runs/${RUN_ID}/reward/${PREFIX}tr-0a1b2c3d-a99/output/model/`,
  target: Array.from(
    { length: MAX_ROUNDS + 1 },
    (_, r) => `s3://${SYNTHESIS_BUCKET}/runs/${RUN_ID}/target/round-${r}/${PREFIX}tt${r}-0a1b2c3d-a99/output/model/`,
  ),
};

function request(stage: Stage, round: number, compute: Record<string, unknown>) {
  const run = {
    ...runState({
      rounds: MAX_ROUNDS,
      hasSeeds: true,
      config: { refinement: { rounds: MAX_ROUNDS }, compute },
    }),
    runId: RUN_ID,
  };
  const name = jobName(PREFIX, RUN_ID, stage, round, MAX_JOB_ATTEMPTS - 1);
  const built: JobRequest = buildJobRequest({ runId: RUN_ID, stage, round, jobName: name, run, models, env: ENV });
  const label = `${stage}@${round} ${JSON.stringify(compute)}`;
  return built.kind === 'training'
    ? { operation: 'CreateTrainingJob', label, params: built.request }
    : { operation: 'CreateProcessingJob', label, params: built.request };
}

function grid() {
  const requests = [];
  const longest = 28 * 24 * 3600;
  for (const stage of STAGES)
    for (const round of roundsOf(stage)) {
      requests.push(request(stage, round, { maxRuntime: longest, spot: false }));
      requests.push(request(stage, round, { maxRuntime: longest, spot: true }));
      requests.push(request(stage, round, { maxRuntime: 60, warmPoolSeconds: 3600 }));
    }
  // Every instance type Prepare run accepts, for the stages its key runs.
  for (const stage of STAGES) {
    const role = STAGE_TRAITS[stage].instance;
    for (const type of INSTANCE_TYPES[roleUses(role).kind])
      requests.push(request(stage, roundsOf(stage).at(-1)!, { maxRuntime: longest, instanceTypes: { [role]: type } }));
  }
  return requests;
}

let result: Checked;
let requests: ReturnType<typeof grid>;

beforeAll(async () => {
  requests = grid();
  // A planted fault, so the checker is seen to catch what botocore alone would not.
  const planted = structuredClone(requests.find((r) => r.operation === 'CreateProcessingJob')!);
  planted.label = 'planted';
  (planted.params as { StoppingCondition: { MaxRuntimeInSeconds: number } }).StoppingCondition.MaxRuntimeInSeconds =
    777_601;
  result = await runPythonJson<Checked>(
    CHECK,
    {
      requests: [...requests, planted],
      enums: {
        TrainingInstanceType: [...INSTANCE_TYPES.training],
        ProcessingInstanceType: [...INSTANCE_TYPES.processing],
      },
    },
    { timeoutMs: 240_000 },
  );
}, 300_000);

describe("every request the builder makes, against botocore's SageMaker service model", () => {
  it('passes validate_parameters and every min/max/enum/pattern limit, over the whole grid', () => {
    expect(result.checked).toBe(requests.length + 1);
    expect(requests.length).toBeGreaterThan(400);
    expect(result.problems.filter((p) => !p.startsWith('planted:'))).toEqual([]);
  });

  it('catches a limit that validate_parameters does not (the planted 777,601-s processing runtime)', () => {
    expect(result.problems).toEqual([expect.stringMatching(/^planted: .*MaxRuntimeInSeconds: 777601 > max 777600/)]);
  });

  it("accepts only instance types that botocore's model knows for the job kind", () => {
    expect(result.enumsMissing).toEqual({ TrainingInstanceType: [], ProcessingInstanceType: [] });
  });
});

/**
 * Runs the synthesized definition itself with aws-local-stepfunctions, each Lambda task
 * answered by a stand-in that first checks its input against the Lambda's zod schema: the
 * paths and parameters of the definition are exercised, not just present.
 */
import '../../local/polyfill.js';
import { Template } from 'aws-cdk-lib/assertions';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { withModel } from '../../functions/describe-job/handler.js';
import {
  DescribeJobInputSchema,
  FilterInputSchema,
  GateInputSchema,
  parseEvent,
  PrepareRunInputSchema,
  RecordFailureInputSchema,
  ReleaseInputSchema,
  ReportInputSchema,
  StartJobInputSchema,
  type JobRef,
  type RunStateInput,
} from '../../core/contract/index.js';
import { parseRunConfig } from '../../core/config/index.js';
import { STAGE_TRAITS } from '../../core/sagemaker/index.js';
import { JobFailed, ThrottlingException } from '../../functions/shared/sagemaker-errors.js';
import { resolveDefinition, synthStack, type Asl } from './synth.js';

let asl: Asl;
/** Task state name → the logical id of the function it invokes. */
let taskFunction: Record<string, string>;

beforeAll(() => {
  const template = Template.fromStack(synthStack().stack);
  const [sm] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const text = resolveDefinition(sm!.Properties.DefinitionString)
    .replaceAll('<AWS::Partition>', 'aws')
    .replace(/<(\w+)\.Arn>/g, 'arn:aws:lambda:us-east-1:111122223333:function:$1');
  asl = JSON.parse(text) as Asl;
  taskFunction = Object.fromEntries(
    Object.entries(asl.States)
      .filter(([, s]) => s.Type === 'Task')
      .map(([name, s]) => [name, String(s.Parameters!.FunctionName).split(':function:')[1]!]),
  );
});

const RUN_ID = 'clinic-qa-3f9a2c1d';

function runState(rounds: number, hasTest: boolean): RunStateInput {
  return {
    runId: RUN_ID,
    records: 10,
    rounds,
    hasTest,
    hasSeeds: false,
    plan: { generator: { noiseMultiplier: 1 }, reward: { noiseMultiplier: 1 } },
    config: parseRunConfig({ refinement: { rounds }, privacy: { delta: 1e-5 }, synthesis: { queries: 10 } }),
  };
}

interface Options {
  rounds: number;
  hasTest: boolean;
  /** Throws from describe-job when this stage/round is polled. */
  failAt?: { stage: string; round: number | null };
  /** start-job is throttled this many times first. */
  throttles?: number;
}

/** Stand-ins for the Lambdas, keyed by function logical id; each records what it was asked. */
function lambdas(options: Options) {
  const calls: { fn: string; input: any }[] = [];
  const polls = new Map<string, number>();
  let throttles = options.throttles ?? 0;
  const handlers: Record<string, (input: any) => unknown> = {
    PrepareRunFunction: (input) => {
      parseEvent(PrepareRunInputSchema, input, 'prepare-run');
      return runState(options.rounds, options.hasTest);
    },
    StartJobFunction: (input) => {
      if (throttles > 0) {
        throttles -= 1;
        throw new ThrottlingException('throttled');
      }
      const e = parseEvent(StartJobInputSchema, input, 'start-job');
      const job: JobRef = {
        jobName: `rds-${e.stage}-${e.round ?? 'x'}-${calls.length}`,
        kind: STAGE_TRAITS[e.stage].kind,
        stage: e.stage,
        zone: STAGE_TRAITS[e.stage].zone,
        runId: e.runId,
        round: e.round ?? null,
      };
      return job;
    },
    DescribeJobFunction: (input) => {
      const e = parseEvent(DescribeJobInputSchema, input, 'describe-job');
      if (options.failAt && options.failAt.stage === e.job.stage && options.failAt.round === e.job.round)
        throw new JobFailed(`${e.state}: ${e.job.jobName} Failed: out of memory`);
      // Each job is seen running once, then finished: the Wait loop is taken.
      const seen = (polls.get(e.job.jobName) ?? 0) + 1;
      polls.set(e.job.jobName, seen);
      if (seen === 1) return { status: 'InProgress', failureReason: null, modelUri: null, models: e.models };
      const modelUri = e.job.kind === 'training' ? `s3://synth-bucket/${e.job.jobName}/output/model/` : null;
      return {
        status: 'Completed',
        failureReason: null,
        modelUri,
        models: modelUri ? withModel(e.models, e.job, modelUri) : e.models,
      };
    },
    ReleaseFunction: (input) => {
      const e = parseEvent(ReleaseInputSchema, input, 'release');
      return e.what === 'models'
        ? { epsilon: 7.9, delta: 1e-5, privacyUri: 's3://synth-bucket/privacy.json' }
        : { metricsUri: 's3://synth-bucket/eval/metrics.json' };
    },
    FilterFunction: (input) => {
      parseEvent(FilterInputSchema, input, 'filter');
      return { poolSize: 1, workingSize: 10, threshold: 0.5, extra: 'dropped' };
    },
    GateFunction: (input) => {
      parseEvent(GateInputSchema, input, 'gate');
      return { poolSize: 2, workingSize: 10, threshold: 0.4 };
    },
    ReportFunction: (input) => {
      parseEvent(ReportInputSchema, input, 'report');
      return { reportUri: 's3://synth-bucket/report.json', htmlUri: 's3://synth-bucket/report.html' };
    },
    RecordFailureFunction: (input) => {
      const e = parseEvent(RecordFailureInputSchema, input, 'record-failure');
      return { error: e.error.Error, cause: e.error.Cause ?? '' };
    },
  };
  const overrides = Object.fromEntries(
    Object.entries(taskFunction).map(([state, fn]) => [
      state,
      // Like the real lambda:invoke, the task gets {FunctionName, Payload} and answers {Payload}.
      async (parameters: any) => {
        const input = parameters.Payload;
        calls.push({ fn, input });
        return { Payload: handlers[fn]!(input) } as any;
      },
    ]),
  );
  return { calls, overrides };
}

async function execute(options: Options) {
  const { calls, overrides } = lambdas(options);
  const waits = Object.fromEntries(
    Object.entries(asl.States)
      .filter(([, s]) => s.Type === 'Wait')
      .map(([name]) => [name, 0]),
  );
  const retries = Object.fromEntries(Object.keys(taskFunction).map((name) => [name, 0]));
  const machine = new StateMachine(asl as unknown as StateMachineDefinition, {
    validationOptions: { checkArn: false },
  });
  const execution = machine.run(
    { runId: RUN_ID, upload: { bucket: 'private-bucket', key: 'incoming/clinic-qa.jsonl', etag: 'abc' } },
    { overrides: { taskResourceLocalHandlers: overrides, waitTimeOverrides: waits, retryIntervalOverrides: retries } },
  );
  let output: any;
  let error: any;
  try {
    output = await execution.result;
  } catch (e) {
    error = e;
  }
  const started = calls
    .filter((c) => c.fn === 'StartJobFunction' && c.input.stage)
    .map((c) => `${c.input.stage}${c.input.round === undefined ? '' : `@${c.input.round}`}`);
  return { calls, output, error, started: [...new Set(started)] };
}

describe('the synthesized definition, executed', () => {
  it('runs every stage in order, two refinement rounds, then evaluation and the report', async () => {
    const { output, error, started, calls } = await execute({ rounds: 2, hasTest: true });
    expect(error).toBeUndefined();
    expect(started).toEqual([
      'train-generator',
      'build-pairs',
      'train-reward',
      'synthesize-queries',
      'sample-candidates',
      'score@0',
      'train-target@0',
      'refine@1',
      'score@1',
      'train-target@1',
      'refine@2',
      'score@2',
      'train-target@2',
      'evaluate',
    ]);
    expect(calls.filter((c) => c.fn === 'GateFunction').map((c) => c.input.round)).toEqual([1, 2]);
    expect(calls.filter((c) => c.fn === 'ReleaseFunction').map((c) => c.input.what)).toEqual(['models', 'evaluation']);
    expect(output.models.target).toHaveLength(3);
    expect(output.models.generator).toMatch(/rds-train-generator/);
    expect(output.release).toEqual({ epsilon: 7.9, delta: 1e-5, privacyUri: 's3://synth-bucket/privacy.json' });
    expect(output.selection).toEqual({ poolSize: 2, workingSize: 10, threshold: 0.4 });
    expect(output.report).toEqual({
      reportUri: 's3://synth-bucket/report.json',
      htmlUri: 's3://synth-bucket/report.html',
    });
    expect(output.round).toBe(3);
    // Evaluation sees every round's adapter.
    const evaluateStart = calls.find((c) => c.fn === 'StartJobFunction' && c.input.stage === 'evaluate')!;
    expect(evaluateStart.input.models.target).toHaveLength(3);
  });

  it('skips refinement with zero rounds and evaluation without a test set', async () => {
    const { error, started, calls } = await execute({ rounds: 0, hasTest: false });
    expect(error).toBeUndefined();
    expect(started.at(-1)).toBe('train-target@0');
    expect(started).not.toContain('evaluate');
    expect(calls.filter((c) => c.fn === 'ReleaseFunction')).toHaveLength(1);
    expect(calls.at(-1)!.fn).toBe('ReportFunction');
  });

  it('retries a throttled start and carries on', async () => {
    const { error, started, calls } = await execute({ rounds: 0, hasTest: false, throttles: 2 });
    expect(error).toBeUndefined();
    expect(started[0]).toBe('train-generator');
    expect(calls.filter((c) => c.fn === 'StartJobFunction' && c.input.stage === 'train-generator')).toHaveLength(3);
  });

  it('sends a failed job to the catch-all, which records the failing step and its job, and fails the run with the cause', async () => {
    const { error, started, calls } = await execute({ rounds: 2, hasTest: true, failAt: { stage: 'score', round: 1 } });
    expect(error).toBeDefined();
    expect(String(error.message)).toContain('Score refined candidates: rds-score-1-');
    expect(started.at(-1)).toBe('score@1');
    const record = calls.find((c) => c.fn === 'RecordFailureFunction')!;
    expect(record.input.failedState).toBe('Score refined candidates');
    expect(record.input.error.Error).toBe('JobFailed');
    expect(record.input.job).toMatchObject({ stage: 'score', round: 1 });
    expect(calls.some((c) => c.fn === 'GateFunction')).toBe(false);
  });
});

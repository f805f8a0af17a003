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
import { buildJobRequest, nextPollSeconds, STAGE_TRAITS } from '../../core/sagemaker/index.js';
import { ENV } from '../helpers/job-fixtures.js';
import { JobFailed, ThrottlingException } from '../../functions/shared/sagemaker-errors.js';
import { resolveDefinition, defaultTemplateJson, type Asl } from './synth.js';

let asl: Asl;
/** Task state name → the logical id of the function it invokes. */
let taskFunction: Record<string, string>;

beforeAll(async () => {
  const template = Template.fromJSON(await defaultTemplateJson());
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

function runState(
  rounds: number,
  hasTest: boolean,
  compute: Record<string, unknown> = {},
  canaries = 0,
): RunStateInput {
  return {
    runId: RUN_ID,
    records: 10,
    rounds,
    hasTest,
    hasSeeds: false,
    plan: { generator: { noiseMultiplier: 1 }, reward: { noiseMultiplier: 1 } },
    config: parseRunConfig({
      refinement: { rounds },
      privacy: { delta: 1e-5, audit: { canaries } },
      synthesis: { queries: 10 },
      compute,
    }),
  };
}

interface Options {
  rounds: number;
  hasTest: boolean;
  /** Throws from describe-job when this stage/round is polled. */
  failAt?: { stage: string; round: number | null };
  /** start-job is throttled this many times first. */
  throttles?: number;
  /** The run config's `compute` section. */
  compute?: Record<string, unknown>;
  /** privacy.audit.canaries. */
  canaries?: number;
  /**
   * A simulated clock: every job runs until the stopping limit of the request the real
   * builder makes for it, and describe-job's waits advance the clock. Without it each job
   * is seen running once, then finished.
   */
  runToLimit?: boolean;
}

/** Stand-ins for the Lambdas, keyed by function logical id; each records what it was asked. */
function lambdas(options: Options) {
  const calls: { fn: string; input: any }[] = [];
  const polls = new Map<string, number>();
  /** Simulated seconds since each job's creation, and its stopping limit. */
  const clocks = new Map<string, { elapsed: number; limit: number; wait: number }>();
  let throttles = options.throttles ?? 0;
  const handlers: Record<string, (input: any) => unknown> = {
    PrepareRunFunction: (input) => {
      parseEvent(PrepareRunInputSchema, input, 'prepare-run');
      return runState(options.rounds, options.hasTest, options.compute, options.canaries);
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
      if (options.runToLimit) {
        const built = buildJobRequest({ ...e, round: e.round ?? 0, jobName: job.jobName, env: ENV });
        const stop = built.request.StoppingCondition!;
        const limit =
          'MaxWaitTimeInSeconds' in stop && stop.MaxWaitTimeInSeconds
            ? stop.MaxWaitTimeInSeconds
            : stop.MaxRuntimeInSeconds!;
        clocks.set(job.jobName, { elapsed: 0, limit, wait: 0 });
      }
      return job;
    },
    DescribeJobFunction: (input) => {
      const e = parseEvent(DescribeJobInputSchema, input, 'describe-job');
      if (options.failAt && options.failAt.stage === e.job.stage && options.failAt.round === e.job.round)
        throw new JobFailed(`${e.state}: ${e.job.jobName} Failed: out of memory`);
      const seen = (polls.get(e.job.jobName) ?? 0) + 1;
      polls.set(e.job.jobName, seen);
      const clock = clocks.get(e.job.jobName);
      const running = (waitSeconds: number) => ({
        status: 'InProgress',
        failureReason: null,
        modelUri: null,
        models: e.models,
        waitSeconds,
      });
      if (clock) {
        // The Wait state just paused for the wait returned last time.
        clock.elapsed += clock.wait;
        if (clock.elapsed < clock.limit) {
          clock.wait = nextPollSeconds(clock.elapsed, clock.limit);
          return running(clock.wait);
        }
      } else if (seen === 1) {
        // Each job is seen running once, then finished: the Wait loop is taken.
        return running(30);
      }
      // Target adapters lie where the request builder expects them (evaluate reads them under one prefix).
      const modelUri =
        e.job.stage === 'train-target'
          ? `s3://${ENV.buckets.synthesis}/runs/${e.job.runId}/target/round-${e.job.round}/${e.job.jobName}/output/model/`
          : e.job.kind === 'training'
            ? `s3://synth-bucket/${e.job.jobName}/output/model/`
            : null;
      return {
        status: 'Completed',
        failureReason: null,
        modelUri,
        models: modelUri ? withModel(e.models, e.job, modelUri) : e.models,
        waitSeconds: null,
      };
    },
    ReleaseFunction: (input) => {
      const e = parseEvent(ReleaseInputSchema, input, 'release');
      if (e.what === 'models') return { epsilon: 7.9, delta: 1e-5, privacyUri: 's3://synth-bucket/privacy.json' };
      return { metricsUri: `s3://synth-bucket/${e.what === 'audit' ? 'audit' : 'eval'}/metrics.json` };
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
  // History events as Step Functions counts them: a Lambda task is entered, scheduled,
  // started, succeeded and exited (5); any other state is entered and exited (2); a retry
  // adds a failed attempt (3 more). Plus ExecutionStarted and its end.
  let events = 0;
  const counting = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'ExecutionStarted' || event.type === 'ExecutionSucceeded' || event.type === 'ExecutionFailed')
        events += 1;
      else if (event.type === 'StateEntered') events += event.state.type === 'Task' ? 5 : 2;
      else if (event.type === 'StateRetried') events += 3;
    }
  })();
  let output: any;
  let error: any;
  try {
    output = await execution.result;
  } catch (e) {
    error = e;
  }
  await counting;
  const started = calls
    .filter((c) => c.fn === 'StartJobFunction' && c.input.stage)
    .map((c) => `${c.input.stage}${c.input.round === undefined ? '' : `@${c.input.round}`}`);
  return { calls, output, error, events, started: [...new Set(started)] };
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

  it('audits the canaries after the last round, before evaluation, only when privacy.audit.canaries > 0', async () => {
    const { output, error, started, calls } = await execute({ rounds: 1, hasTest: true, canaries: 3 });
    expect(error).toBeUndefined();
    expect(started.slice(-3)).toEqual(['train-target@1', 'audit-canaries', 'evaluate']);
    expect(calls.filter((c) => c.fn === 'ReleaseFunction').map((c) => c.input.what)).toEqual([
      'models',
      'audit',
      'evaluation',
    ]);
    expect(output.audit).toEqual({ metricsUri: 's3://synth-bucket/audit/metrics.json' });
    const auditStart = calls.find((c) => c.fn === 'StartJobFunction' && c.input.stage === 'audit-canaries')!;
    expect(auditStart.input.models.generator).toMatch(/rds-train-generator/);

    const without = await execute({ rounds: 1, hasTest: false });
    expect(without.started).not.toContain('audit-canaries');
    expect(without.output.audit).toBeUndefined();
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

  it('waits as describe-job says: every Wait state reads its seconds from $.jobStatus.waitSeconds', () => {
    const waits = Object.values(asl.States).filter((s) => s.Type === 'Wait');
    expect(waits.length).toBeGreaterThan(0);
    for (const wait of waits) {
      expect(wait).toMatchObject({ SecondsPath: '$.jobStatus.waitSeconds' });
      expect(wait).not.toHaveProperty('Seconds');
    }
  });

  it('stays under 5,000 history events when every job of an 8-round run runs to the default 24-h limit', async () => {
    const { error, events, calls } = await execute({ rounds: 8, hasTest: true, runToLimit: true });
    expect(error).toBeUndefined();
    expect(calls.filter((c) => c.fn === 'StartJobFunction')).toHaveLength(32);
    expect(events).toBeLessThan(5_000);
  });

  it('stays well under the 25,000-event limit with the longest runtimes the config allows (spot, 8 rounds)', async () => {
    const { error, events } = await execute({
      rounds: 8,
      hasTest: true,
      runToLimit: true,
      compute: { maxRuntime: 28 * 24 * 3600, spot: true },
    });
    expect(error).toBeUndefined();
    expect(events).toBeLessThan(10_000);
  });
});

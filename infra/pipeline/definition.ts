/**
 * The state machine of docs/design.md#stages-and-their-data as a readable list: one line per console-named step.
 * JSONPath only (no JSONata, no Assign, no .sync): local mode runs this same definition
 * with aws-local-stepfunctions.
 */
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import {
  ReleaseAuditOutputSchema,
  ReleaseEvaluationOutputSchema,
  ReleaseModelsOutputSchema,
  ReportOutputSchema,
  RunStateSchema,
  SelectionOutputSchema,
} from '../../core/contract/index.js';
import { CatchAll } from './catch-all.js';
import { lambdaStep, runJob } from './job-step.js';
import { sequence, type Step } from './step.js';

export interface PipelineFunctions {
  readonly prepareRun: lambda.IFunction;
  readonly startJob: lambda.IFunction;
  readonly describeJob: lambda.IFunction;
  readonly release: lambda.IFunction;
  readonly filter: lambda.IFunction;
  readonly gate: lambda.IFunction;
  readonly report: lambda.IFunction;
  readonly recordFailure: lambda.IFunction;
}

/** Console names of the steps (docs/design.md#stages-and-their-data), in order. */
export const STATE_NAMES = {
  prepare: 'Prepare run',
  trainGenerator: 'DP-train generation proxy',
  buildPairs: 'Build reward pairs',
  trainReward: 'DP-train reward proxy',
  release: 'Release DP models',
  synthesize: 'Synthesize queries',
  sample: 'Sample candidates',
  score: 'Score candidates',
  filter: 'Filter by reward',
  fineTune0: 'Fine-tune target (round 0)',
  startRefinement: 'Start refinement',
  roundLeft: 'Refinement round left?',
  refine: 'Refine round',
  scoreRefined: 'Score refined candidates',
  gate: 'Gate refined samples',
  fineTuneR: 'Fine-tune target (round r)',
  nextRound: 'Next round',
  advanceRound: 'Advance round',
  auditOn: 'Canary audit on?',
  auditCanaries: 'Audit canaries',
  releaseAudit: 'Release canary audit',
  hasTest: 'Test set given?',
  evaluate: 'Evaluate',
  releaseEvaluation: 'Release evaluation',
  report: 'Write report',
  done: 'Run complete',
} as const;

const keys = (schema: { shape: object }) => Object.keys(schema.shape);

export function buildDefinition(scope: Construct, fns: PipelineFunctions): sfn.IChainable {
  const n = STATE_NAMES;
  const catchAll = new CatchAll(scope, 'CatchAll', fns.recordFailure);
  const job = (name: string, stage: Parameters<typeof runJob>[1]['stage'], round?: number | '$.round') =>
    runJob(scope, { name, stage, round, startJob: fns.startJob, describeJob: fns.describeJob, catchAll });
  const lambdaTask = (props: Parameters<typeof lambdaStep>[2]) => lambdaStep(scope, catchAll, props);
  const run = { 'runId.$': '$.runId', 'run.$': '$.run' };
  // One Lambda releases both: the DP models (and privacy.json), later the evaluation's aggregates.
  const release = (name: string, what: 'models' | 'evaluation', resultPath: string, resultKeys: string[]) =>
    lambdaTask({
      name,
      fn: fns.release,
      payload: sfn.TaskInput.fromObject({ ...run, what, 'models.$': '$.models' }),
      resultPath,
      resultKeys,
    });

  const report = lambdaTask({
    name: n.report,
    fn: fns.report,
    payload: sfn.TaskInput.fromObject({ ...run, 'release.$': '$.release' }),
    resultPath: '$.report',
    resultKeys: keys(ReportOutputSchema),
  });
  const done = new sfn.Succeed(scope, 'Done', { stateName: n.done });
  report.continueTo(done);

  // Evaluation is optional: only with a test set, and only aggregate numbers leave the private zone.
  const evaluation = sequence(
    [
      job(n.evaluate, 'evaluate'),
      release(n.releaseEvaluation, 'evaluation', '$.evaluation', keys(ReleaseEvaluationOutputSchema)),
    ],
    report.start,
  );
  const hasTest = new sfn.Choice(scope, 'Has test', { stateName: n.hasTest })
    .when(sfn.Condition.booleanEquals('$.run.hasTest', true), evaluation)
    .otherwise(report.start);

  // The canary audit is optional (privacy.audit.canaries > 0): a private-zone job after the last
  // round, so it can scan every synthetic text for the secrets; only its aggregates cross.
  const audit = sequence(
    [
      job(n.auditCanaries, 'audit-canaries'),
      lambdaTask({
        name: n.releaseAudit,
        fn: fns.release,
        payload: sfn.TaskInput.fromObject({ ...run, what: 'audit' }),
        resultPath: '$.audit',
        resultKeys: keys(ReleaseAuditOutputSchema),
      }),
    ],
    hasTest,
  );
  const auditOn = new sfn.Choice(scope, 'Audit on', { stateName: n.auditOn })
    .when(
      sfn.Condition.and(
        sfn.Condition.isPresent('$.run.config.privacy.audit.canaries'),
        sfn.Condition.numberGreaterThan('$.run.config.privacy.audit.canaries', 0),
      ),
      audit,
    )
    .otherwise(hasTest);

  // The refinement loop: one set of states, driven by $.round against $.run.rounds.
  const roundLeft = new sfn.Choice(scope, 'Round left', { stateName: n.roundLeft });
  const nextRound = new sfn.Pass(scope, 'Next round', {
    stateName: n.nextRound,
    parameters: { 'round.$': 'States.MathAdd($.round, 1)' },
    resultPath: '$.next',
  });
  // A Pass's Parameters make an object; this second Pass lifts the number to $.round.
  const advanceRound = new sfn.Pass(scope, 'Advance round', {
    stateName: n.advanceRound,
    inputPath: '$.next.round',
    resultPath: '$.round',
  });
  nextRound.next(advanceRound).next(roundLeft);
  const loopBody = sequence(
    [
      job(n.refine, 'refine', '$.round'),
      job(n.scoreRefined, 'score', '$.round'),
      lambdaTask({
        name: n.gate,
        fn: fns.gate,
        payload: sfn.TaskInput.fromObject({ ...run, 'round.$': '$.round' }),
        resultPath: '$.selection',
        resultKeys: keys(SelectionOutputSchema),
      }),
      job(n.fineTuneR, 'train-target', '$.round'),
    ],
    nextRound,
  );
  roundLeft.when(sfn.Condition.numberLessThanEqualsJsonPath('$.round', '$.run.rounds'), loopBody).otherwise(auditOn);
  const startRefinement = new sfn.Pass(scope, 'Start refinement', {
    stateName: n.startRefinement,
    result: sfn.Result.fromNumber(1),
    resultPath: '$.round',
  });
  startRefinement.next(roundLeft);

  const main: Step[] = [
    lambdaTask({
      name: n.prepare,
      fn: fns.prepareRun,
      payload: sfn.TaskInput.fromObject({ 'runId.$': '$.runId', 'upload.$': '$.upload' }),
      resultPath: '$.run',
      resultKeys: keys(RunStateSchema),
    }),
    job(n.trainGenerator, 'train-generator'),
    job(n.buildPairs, 'build-pairs'),
    job(n.trainReward, 'train-reward'),
    release(n.release, 'models', '$.release', keys(ReleaseModelsOutputSchema)),
    job(n.synthesize, 'synthesize-queries'),
    job(n.sample, 'sample-candidates'),
    job(n.score, 'score', 0),
    lambdaTask({
      name: n.filter,
      fn: fns.filter,
      payload: sfn.TaskInput.fromObject(run),
      resultPath: '$.selection',
      resultKeys: keys(SelectionOutputSchema),
    }),
    job(n.fineTune0, 'train-target', 0),
  ];
  return sequence(main, startRefinement);
}

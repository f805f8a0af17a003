/**
 * `rewardds run --local <train.jsonl> [--test t.jsonl] [--seeds s.jsonl] [--config c.json]
 * [--workdir dir] [--json]`: the whole pipeline on this machine (docs/design.md#local-mode). The exit code
 * is 0 for a run that succeeded, 1 for one that failed, 2 for a command line that is wrong.
 */
import { existsSync, statSync } from 'node:fs';
import { FAIL_STAGE_ENV } from '../../local/sagemaker/index.js';
import { runLocal, type LocalRunResult } from '../../local/runner.js';
import { evaluationTable, summarizeRun, timeLine } from '../../local/summary.js';
import { parseOptions, flagOptions, stringOptions } from '../options.js';
import { usageError } from '../usage-error.js';

const USAGE = `usage: rewardds run --local <train.jsonl> [--test test.jsonl] [--seeds seeds.jsonl]
                    [--config config.json] [--workdir .rewardds] [--cold] [--job-cache dir] [--json]

Runs the synthesized state machine locally: moto S3/KMS on loopback, the Lambda handlers
in-process, each SageMaker job as its own CPU process on tiny models: a fresh fork of a
warm job process that has imported torch, transformers, peft and opacus once. Every
object of the run is copied to <workdir>/runs/<run>/ at the end.

  --cold   start each job as a plain python subprocess instead (as slow as a fresh
           container; to measure what the warm job process saves)
  --job-cache dir
           reuse finished jobs' outputs from this folder: a job whose request (up to the
           run's names), input content, job code and runtime equal an earlier one's completes
           with that job's outputs; every state still runs. Off by default. The folder holds
           private-zone outputs: keep it where the private data may be (docs/operations.md)
  --json   print progress to stderr and, as the last line of stdout, one JSON object
           {runId, status, epsilon, delta, poolSizes, evaluation, outputDir, reportPath, time, failure?, quarantine?}`;

const OPTIONS = {
  ...flagOptions('local', 'json', 'cold'),
  ...stringOptions('test', 'seeds', 'config', 'job-cache'),
  workdir: { type: 'string', default: '.rewardds' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOptions('run', USAGE, argv, OPTIONS, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (!values.local) {
    console.error(
      'rewardds run: only --local runs from this command. On AWS, upload the file to the private bucket under incoming/ ' +
        '(aws s3 cp train.jsonl s3://<PrivateBucket>/incoming/<name>.jsonl); the upload starts the run.',
    );
    return 2;
  }
  if (positionals.length !== 1) return usageError('run', 'give exactly one training file', USAGE);
  const files = { train: positionals[0]!, test: values.test, seeds: values.seeds, config: values.config };
  for (const [what, path] of Object.entries(files)) {
    if (path !== undefined && !(existsSync(path) && statSync(path).isFile())) {
      console.error(`rewardds run: --${what === 'train' ? 'train file' : what} ${path}: no such file`);
      return 2;
    }
  }

  // With --json, stdout carries only the result; progress goes to stderr.
  const progress = values.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  const failStages = process.env[FAIL_STAGE_ENV]?.split(',').filter(Boolean);
  const result = await runLocal({
    ...files,
    workdir: values.workdir!,
    progress,
    failStages,
    cold: values.cold,
    ...(values['job-cache'] ? { jobCache: values['job-cache'] } : {}),
  });
  const summary = summarizeRun(result.outputDir);

  if (values.json) {
    console.log(JSON.stringify(jsonResult(result, summary)));
  } else {
    console.log(humanResult(result, summary));
  }
  return result.status === 'succeeded' ? 0 : 1;
}

export function jsonResult(result: LocalRunResult, summary: ReturnType<typeof summarizeRun>) {
  return {
    runId: result.runId,
    status: result.status,
    epsilon: summary.epsilon,
    delta: summary.delta,
    poolSizes: summary.poolSizes,
    evaluation: summary.evaluation,
    outputDir: result.outputDir,
    reportPath: summary.reportPath,
    time: result.time,
    ...(result.timingPath ? { timingPath: result.timingPath } : {}),
    ...(result.failure ? { failure: result.failure } : {}),
    ...(result.quarantine ? { quarantine: result.quarantine } : {}),
  };
}

function humanResult(result: LocalRunResult, summary: ReturnType<typeof summarizeRun>): string {
  const lines = ['', `run        ${result.runId}: ${result.status}`];
  if (summary.epsilon !== null)
    lines.push(`privacy    ε = ${summary.epsilon.toFixed(3)}, δ = ${summary.delta?.toExponential(2)}`);
  if (summary.poolSizes.length)
    lines.push(`pool size  ${summary.poolSizes.map((n, r) => `round ${r}: ${n}`).join(', ')}`);
  if (summary.evaluation?.rows.length) lines.push('', evaluationTable(summary.evaluation.rows), '');
  else if (summary.evaluation?.withheld) lines.push(`evaluation withheld: ${summary.evaluation.withheld}`);
  if (result.failure) lines.push(`failed in  ${result.failure.state}: ${result.failure.reason}`);
  if (result.quarantine) lines.push(`quarantine ${result.quarantine}`);
  lines.push(`time       ${timeLine(result.time)}`);
  if (result.timingPath) lines.push(`           per job: ${result.timingPath} (local only, not in the report)`);
  lines.push(`outputs    ${result.outputDir}`);
  if (summary.reportPath) lines.push(`report     ${summary.reportPath}`);
  return lines.join('\n');
}

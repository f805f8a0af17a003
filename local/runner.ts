/**
 * Runs one upload through the synthesized state machine on this machine. Only adapters
 * are swapped: S3 (and KMS) is moto on loopback, SageMaker is the local backend, Step
 * Functions is aws-local-stepfunctions, and the trigger's StartExecution lands in a local
 * stand-in. Every handler, every state and every job body is the code that runs on AWS.
 */
import './polyfill.js';

import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { S3Client } from '@aws-sdk/client-s3';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { privateKeys } from '../core/contract/index.js';
import {
  findResources,
  lambdaEnvironments,
  localNames,
  stateMachineOf,
  type LambdaTask,
  type StackTemplate,
} from './asl.js';
import {
  buildTinyModels,
  createBuckets,
  objectCreatedEvent,
  placeUpload,
  uploadFolder,
  uploadName,
  type LocalBucket,
} from './bootstrap.js';
import {
  baseEnv,
  coldLauncher,
  DEFAULT_JOBS_DIR,
  defaultPython,
  LocalSageMaker,
  warmLauncher,
  type LaunchMode,
  type LocalJobEvent,
} from './sagemaker/index.js';
import { LOCAL_TIMING_FILE, localTiming, runTime, type RunTime } from './summary.js';
import { copyRun, privateFailureDetail, readJsonIfExists } from './run-output.js';
import { createKmsKey, s3ClientFor, startS3Server, type S3Server } from './s3-server.js';
import { STATE_NAMES } from '../infra/pipeline/definition.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The synthesized app as local mode needs it: templates, and each function's handler module. */
export interface SynthesizedApp {
  templates: StackTemplate[];
  /** Function logical id → the TypeScript entry file of its handler (absolute or repo-relative). */
  entries: Record<string, string>;
}

export interface LocalRunOptions {
  train: string;
  test?: string;
  seeds?: string;
  config?: string;
  /** Jobs, model cache and copied outputs live here (default .rewardds). */
  workdir: string;
  /** Synthesizes the CDK app; default: local/app.ts. */
  synthesize?: () => Promise<SynthesizedApp>;
  /** One line of progress at a time (default: none). */
  progress?: (line: string) => void;
  /** Called with a step's console name (e.g. 'Score candidates') each time that step ends. */
  onStepDone?: (step: string) => void;
  /** Test-only: stages the local SageMaker fails on purpose. */
  failStages?: string[];
  /**
   * Milliseconds each Wait state pauses (default 0: the poll's Describe itself waits, up to
   * `describeWaitMs`, for the job to end, so a step ends when its job does).
   */
  waitMs?: number;
  /** How long the local SageMaker holds a Describe of a running job (default 1000 ms). */
  describeWaitMs?: number;
  /** Extra environment for job processes. */
  jobEnv?: Record<string, string>;
  /** One plain subprocess per job instead of forks of the warm job process. */
  cold?: boolean;
  /**
   * Test-only: when the run fails, clear `failStages` and resume it as docs/operations.md
   * says: a new execution `<run id>-resume-1` with the failed execution's input.
   */
  resumeOnFailure?: boolean;
  /**
   * Base-model folders to use instead of the tiny random ones (e.g. models pretrained on a
   * benchmark world's public corpus); ordinary Hugging Face folders, uploaded as they are.
   */
  baseModels?: BaseModelFolders;
  /**
   * Folder of the local job-result cache (off when absent): a job identical to one that
   * finished before — same request up to the run's names, same input content, job code
   * and runtime — completes with that job's outputs (local/sagemaker/job-cache-key.ts).
   * The state machine still runs every state. The folder holds private-zone outputs.
   */
  jobCache?: string;
}

/** The two public bases of a run: the proxy base (generator and reward) and the target base. */
export interface BaseModelFolders {
  proxy: string;
  target: string;
}

export interface LocalRunResult {
  runId: string;
  status: 'succeeded' | 'failed';
  /** Where every object of the run was copied. */
  outputDir: string;
  failure?: { state: string; reason: string };
  /** Local copy of the refused upload, when Prepare run refused it. */
  quarantine?: string;
  /** Per state: seconds spent, for the summary. */
  stateSeconds: Record<string, number>;
  /** The run's wall time and the part of it spent inside job bodies (after their imports). */
  time: RunTime;
  jobs: ReturnType<LocalSageMaker['list']>;
  executionOutput?: unknown;
  /** The execution that resumed the failed run (resumeOnFailure). */
  resumedAs?: string;
  /** The local-only timing file (LOCAL_TIMING_FILE in outputDir), once the run is copied. */
  timingPath?: string;
}

/** A Lambda as the state machine invokes it: payload in, payload out. */
type Invoke = (payload: unknown) => Promise<unknown>;

interface HandlerModule {
  createHandler: (deps: Record<string, unknown>) => (event: unknown) => Promise<unknown>;
  configFromEnv?: (env: NodeJS.ProcessEnv) => unknown;
}

/** The error Step Functions records for a Lambda that threw: its type, and the runtime's JSON as the cause. */
export class LambdaError extends Error {
  constructor(errorType: string, errorMessage: string) {
    super(JSON.stringify({ errorType, errorMessage, trace: [] }));
    this.name = errorType;
  }
}

/** Handler logs go to a file, not the terminal: the terminal shows progress only. */
function fileLogger(path: string, service: string) {
  const write =
    (level: string) =>
    (message: string, ...extra: unknown[]) =>
      appendFileSync(
        path,
        `${JSON.stringify({ level, service, message, ...Object.assign({}, ...extra.filter((e) => typeof e === 'object')) })}\n`,
      );
  return { info: write('INFO'), warn: write('WARN'), error: write('ERROR'), debug: write('DEBUG') };
}

export async function runLocal(options: LocalRunOptions): Promise<LocalRunResult> {
  const workdir = resolve(options.workdir);
  mkdirSync(workdir, { recursive: true });
  const say = options.progress ?? (() => undefined);
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;

  // The warm job process (Python imports) and moto (another Python process) start first and
  // get ready on the other core while this one synthesizes the app: none depends on another.
  const launcher = options.cold
    ? coldLauncher()
    : warmLauncher({
        python: defaultPython(),
        env: { ...baseEnv(), ...options.jobEnv, PYTHONPATH: DEFAULT_JOBS_DIR },
        logPath: join(workdir, 'warm-job-process.log'),
        onReady: say,
      });
  if (options.cold) say('--cold: each job runs as a plain subprocess');
  say('synthesizing the CDK app');
  const [synthesized, s3Started] = await Promise.allSettled([
    (options.synthesize ?? defaultSynthesize)(),
    startS3Server(),
  ]);
  if (synthesized.status === 'rejected' || s3Started.status === 'rejected') {
    if (s3Started.status === 'fulfilled') await s3Started.value.stop();
    await launcher.close();
    throw s3Started.status === 'rejected' ? s3Started.reason : (synthesized as PromiseRejectedResult).reason;
  }
  const app = synthesized.value;
  const server = s3Started.value;
  const backend: { sm?: LocalSageMaker } = {};
  try {
    const s3 = s3ClientFor(server);
    const { names, buckets, machine, envs, keyArns } = await bootstrapStack(server, s3, app.templates);
    say(`moto S3/KMS on ${server.endpoint}; buckets: ${buckets.map((b) => b.name).join(', ')}`);

    const roles = bucketRoles(envs);
    await uploadBaseModels(s3, envs, workdir, say, options.baseModels);

    const sm = new LocalSageMaker({
      s3,
      workdir,
      failStages: options.failStages,
      env: options.jobEnv,
      launcher,
      describeWaitMs: options.describeWaitMs ?? 1000,
      onJobEvent: (event) => say(jobLine(event)),
      ...(options.jobCache ? { jobCache: resolve(options.jobCache), stackNames: freshNames(keyArns) } : {}),
    });
    if (options.jobCache) say(`job cache: ${resolve(options.jobCache)}`);
    backend.sm = sm;

    const logPath = join(workdir, 'lambda.log');
    const executions = new Map<string, Promise<ExecutionOutcome>>();
    const stateSeconds: Record<string, number> = {};
    const handlers = await loadHandlers(app, envs, { s3, sagemaker: sm, logPath });
    // Describe-job runs once per poll; its progress is the job lines, not a line per poll.
    const pollFunctions = new Set(Object.keys(app.entries).filter((id) => /describe-job/.test(app.entries[id]!)));
    const localSfn = {
      async send(command: unknown) {
        if (!(command instanceof StartExecutionCommand))
          throw new Error('the local Step Functions stand-in only starts executions');
        const name = command.input.name!;
        if (executions.has(name)) {
          throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${name}'`, $metadata: {} });
        }
        const input = JSON.parse(command.input.input ?? '{}');
        executions.set(
          name,
          execute(machine.definition, machine.tasks, handlers, input, name, {
            say,
            onStepDone: options.onStepDone ?? (() => undefined),
            stateSeconds,
            waitMs: options.waitMs ?? 0,
            elapsed,
            pollFunctions,
          }),
        );
        return {
          executionArn: `${command.input.stateMachineArn}:${name}`.replace(':stateMachine:', ':execution:'),
          startDate: new Date(),
        };
      },
    };

    // The user's upload, and the EventBridge event it produces, into the real trigger.
    const placed = await placeUpload(s3, roles.private, {
      name: uploadName(options.train),
      train: options.train,
      test: options.test,
      seeds: options.seeds,
      config: options.config,
    });
    say(`uploaded s3://${placed.bucket}/${placed.key}`);
    const trigger = triggerHandler(
      app,
      envs,
      machine.logicalId,
      names.attrs[machine.logicalId]!.Arn!,
      localSfn,
      logPath,
    );
    const event = objectCreatedEvent(placed);
    const executionStarted = Date.now();
    const first = (await trigger(event)) as { started: boolean; runId: string };
    if (!first.started) throw new Error(`the trigger started no run for ${placed.key}`);
    // EventBridge delivers at least once; the repeat must start nothing.
    const repeat = (await trigger(event)) as { started: boolean };
    say(`run ${first.runId} started${repeat.started ? '' : ' (a repeated event started nothing)'}`);

    let outcome = await executions.get(first.runId)!;
    let resumedAs: string | undefined;
    if (!outcome.ok && options.resumeOnFailure) {
      sm.clearFailStages();
      resumedAs = `${first.runId}-resume-1`;
      say(`resuming run ${first.runId} as execution ${resumedAs}`);
      await localSfn.send(
        new StartExecutionCommand({
          stateMachineArn: names.attrs[machine.logicalId]!.Arn!,
          name: resumedAs,
          input: JSON.stringify({
            runId: first.runId,
            upload: { bucket: placed.bucket, key: placed.key, etag: placed.etag.replace(/^"|"$/g, '') },
          }),
        }),
      );
      outcome = await executions.get(resumedAs)!;
    }
    const executionEnded = Date.now();
    await sm.shutdown();

    const outputDir = join(workdir, 'runs', first.runId);
    await copyRun(s3, roles, first.runId, placed.key, outputDir, sm);
    const jobs = sm.list();
    const result: LocalRunResult = {
      runId: first.runId,
      status: outcome.ok ? 'succeeded' : 'failed',
      outputDir,
      stateSeconds,
      time: runTime(
        started,
        Date.now(),
        jobs.flatMap((job) => (job.body ? [job.body] : [])),
        { start: executionStarted, end: executionEnded },
      ),
      jobs,
      executionOutput: outcome.ok ? outcome.output : undefined,
      ...(resumedAs ? { resumedAs } : {}),
    };
    if (!outcome.ok) {
      const recorded = readJsonIfExists<{ state?: string; cause?: string; error?: string }>(
        join(outputDir, 'synthesis', 'failure.json'),
      );
      const state = recorded?.state ?? outcome.failedState ?? 'unknown';
      result.failure = {
        state,
        reason: privateFailureDetail(outputDir, first.runId, state, placed.key) ?? recorded?.cause ?? outcome.reason,
      };
      const quarantined = join(outputDir, 'private', privateKeys.quarantined(placed.key));
      if (existsSync(quarantined)) result.quarantine = quarantined;
    }
    // Beside the two zones' copies, not in either: private-zone job times must not reach the
    // synthesis zone's report (docs/privacy.md), but the one running it locally may see them.
    result.timingPath = join(outputDir, LOCAL_TIMING_FILE);
    writeFileSync(result.timingPath, `${JSON.stringify(localTiming(result), null, 1)}\n`);
    say(`run ${result.status} after ${elapsed()}`);
    return result;
  } finally {
    await backend.sm?.shutdown();
    await launcher.close();
    await server.stop();
  }
}

// ---- set-up ------------------------------------------------------------------------------

async function bootstrapStack(server: S3Server, s3: S3Client, templates: StackTemplate[]) {
  const keyArns: Record<string, string> = {};
  for (const { id } of findResources(templates, 'AWS::KMS::Key')) keyArns[id] = await createKmsKey(server, id);
  const names = localNames(templates, keyArns);
  const buckets: LocalBucket[] = findResources(templates, 'AWS::S3::Bucket').map(({ id, resource }) => {
    const props = resource.Properties ?? {};
    const rule = (
      props.BucketEncryption as
        | { ServerSideEncryptionConfiguration?: { ServerSideEncryptionByDefault?: { KMSMasterKeyID?: unknown } }[] }
        | undefined
    )?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault;
    const keyRef = rule?.KMSMasterKeyID;
    const kmsKeyArn = keyRef === undefined ? undefined : keyArnFor(keyRef, names, keyArns);
    const versioned = (props.VersioningConfiguration as { Status?: string } | undefined)?.Status === 'Enabled';
    return { logicalId: id, name: names.refs[id]!, kmsKeyArn, versioned };
  });
  await createBuckets(s3, buckets);
  const machine = stateMachineOf(templates, names);
  const envs = lambdaEnvironments(templates, names);
  return { names, buckets, machine, envs, keyArns };
}

/** moto's KMS keys get fresh ids each time local mode starts: their ARNs and ids → the template's logical ids. */
function freshNames(keyArns: Record<string, string>): Record<string, string> {
  const names: Record<string, string> = {};
  for (const [logicalId, arn] of Object.entries(keyArns)) {
    names[arn] = `kms:${logicalId}`;
    names[arn.split('/').pop()!] = `kms:${logicalId}`;
  }
  return names;
}

/** A bucket's KMSMasterKeyID is a GetAtt Arn (or a Ref to the key id); either way, the moto ARN. */
function keyArnFor(
  ref: unknown,
  names: ReturnType<typeof localNames>,
  keyArns: Record<string, string>,
): string | undefined {
  const r = ref as { 'Fn::GetAtt'?: [string, string]; Ref?: string };
  const id = r['Fn::GetAtt']?.[0] ?? r.Ref;
  if (id && keyArns[id]) return keyArns[id];
  return typeof ref === 'string' ? ref : names.attrs[id ?? '']?.Arn;
}

/** The private and synthesis bucket names, as the Lambdas are told them. */
function bucketRoles(envs: Record<string, Record<string, string>>): { private: string; synthesis: string } {
  for (const env of Object.values(envs)) {
    if (env.PRIVATE_BUCKET && env.SYNTHESIS_BUCKET)
      return { private: env.PRIVATE_BUCKET, synthesis: env.SYNTHESIS_BUCKET };
  }
  throw new Error('no Lambda of the app names both PRIVATE_BUCKET and SYNTHESIS_BUCKET');
}

/** Builds the tiny bases once and puts them where the start-job Lambda's environment says they are. */
async function uploadBaseModels(
  s3: S3Client,
  envs: Record<string, Record<string, string>>,
  workdir: string,
  say: (line: string) => void,
  given?: BaseModelFolders,
) {
  const env = Object.values(envs).find((e) => e.PROXY_BASE_MODEL_URI && e.TARGET_BASE_MODEL_URI);
  if (!env) throw new Error('no Lambda of the app names PROXY_BASE_MODEL_URI and TARGET_BASE_MODEL_URI');
  const t0 = Date.now();
  const folders: Record<string, string> = given
    ? { proxy: resolve(given.proxy), target: resolve(given.target) }
    : await buildTinyModels(join(workdir, 'models'), { python: defaultPython(), jobsDir: join(REPO_ROOT, 'jobs') });
  for (const [name, uri] of [
    ['proxy', env.PROXY_BASE_MODEL_URI!],
    ['target', env.TARGET_BASE_MODEL_URI!],
  ] as const) {
    const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri)!;
    // The models bucket is the operator's, not the stack's: make it as they would have.
    if (!(await bucketExists(s3, match[1]!)))
      await createBuckets(s3, [{ logicalId: 'Models', name: match[1]!, versioned: true }]);
    const prefix = match[2]!.endsWith('/') || match[2] === '' ? match[2]! : `${match[2]}/`;
    await uploadFolder(s3, match[1]!, prefix, folders[name]!);
  }
  const kind = given ? 'given base models' : 'tiny base models';
  say(`${kind} ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}

async function bucketExists(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch {
    return false;
  }
}

async function loadHandlers(
  app: SynthesizedApp,
  envs: Record<string, Record<string, string>>,
  deps: { s3: S3Client; sagemaker: LocalSageMaker; logPath: string },
): Promise<Record<string, Invoke>> {
  const handlers: Record<string, Invoke> = {};
  for (const [functionId, entry] of Object.entries(app.entries)) {
    handlers[functionId] = await wireHandler(entry, envs[functionId] ?? {}, {
      s3: deps.s3,
      sagemaker: deps.sagemaker,
      logger: fileLogger(deps.logPath, functionId),
    });
  }
  return handlers;
}

/** Imports a handler module and wires it as its `handler` would, with local adapters and the function's own environment. */
async function wireHandler(entry: string, env: Record<string, string>, deps: Record<string, unknown>): Promise<Invoke> {
  const mod = (await import(resolve(REPO_ROOT, entry))) as HandlerModule;
  if (typeof mod.createHandler !== 'function') throw new Error(`${entry} exports no createHandler(deps)`);
  if (typeof mod.configFromEnv !== 'function') throw new Error(`${entry} exports no configFromEnv(env)`);
  const config = mod.configFromEnv({ ...env });
  return mod.createHandler({ ...deps, config });
}

function triggerHandler(
  app: SynthesizedApp,
  envs: Record<string, Record<string, string>>,
  machineId: string,
  machineArn: string,
  sfn: { send(command: unknown): Promise<unknown> },
  logPath: string,
): Invoke {
  const id = Object.keys(envs).find((fn) => envs[fn]!.STATE_MACHINE_ARN === machineArn);
  if (!id || !app.entries[id])
    throw new Error(`no Lambda of the app starts state machine ${machineId} (STATE_MACHINE_ARN)`);
  let wired: Invoke | undefined;
  return async (event) => {
    wired ??= await wireHandler(app.entries[id]!, envs[id]!, { sfn, logger: fileLogger(logPath, id) });
    return wired(event);
  };
}

async function defaultSynthesize(): Promise<SynthesizedApp> {
  const appModule = './app.js'; // written against infra/ once it lands
  const mod = (await import(appModule)) as { synthesizeApp: () => Promise<SynthesizedApp> };
  return mod.synthesizeApp();
}

// ---- the execution -----------------------------------------------------------------------

type ExecutionOutcome = { ok: true; output: unknown } | { ok: false; failedState?: string; reason: string };

/** A JSON value as aws-local-stepfunctions passes it (its own type is not exported). */
type Json = Parameters<StateMachine['run']>[0];

/** The part of an ASL state the Wait-override walk reads. */
interface AslStates {
  States: Record<string, { Type: string; Branches?: AslStates[]; Iterator?: AslStates; ItemProcessor?: AslStates }>;
}

async function execute(
  definition: unknown,
  tasks: LambdaTask[],
  handlers: Record<string, Invoke>,
  input: unknown,
  name: string,
  ctx: {
    say: (line: string) => void;
    onStepDone: (step: string) => void;
    stateSeconds: Record<string, number>;
    waitMs: number;
    elapsed: () => string;
    pollFunctions: Set<string>;
  },
): Promise<ExecutionOutcome> {
  const { pollFunctions } = ctx;
  const localHandlers: Record<string, (input: Json) => Promise<Json>> = {};
  const polls = new Set<string>();
  for (const task of tasks) {
    const invoke = handlers[task.functionId];
    if (!invoke) throw new Error(`state '${task.state}' invokes ${task.functionId}, which has no handler entry`);
    if (pollFunctions.has(task.functionId)) polls.add(task.state);
    localHandlers[task.state] = async (stateInput: Json) => {
      const payload = task.integration === 'invoke' ? (stateInput as { Payload?: Json } | null)?.Payload : stateInput;
      try {
        const out = await invoke(payload);
        return (task.integration === 'invoke' ? { Payload: out ?? null } : out) as Json;
      } catch (error) {
        const e = error as Error;
        throw new LambdaError(e.name && e.name !== 'Error' ? e.name : 'Error', e.message);
      }
    };
  }
  const waits: Record<string, number> = {};
  const walk = (d: AslStates) => {
    for (const [stateName, state] of Object.entries(d.States)) {
      if (state.Type === 'Wait') waits[stateName] = ctx.waitMs;
      for (const b of state.Branches ?? []) walk(b);
      if (state.Iterator) walk(state.Iterator);
      if (state.ItemProcessor) walk(state.ItemProcessor);
    }
  };
  walk(definition as AslStates);
  const retries: Record<string, number> = {};
  for (const task of tasks) retries[task.state] = 50;

  const machine = new StateMachine(definition as StateMachineDefinition, {
    validationOptions: { checkArn: false, checkPaths: true },
  });
  const execution = machine.run(input as Json, {
    overrides: { taskResourceLocalHandlers: localHandlers, waitTimeOverrides: waits, retryIntervalOverrides: retries },
    context: { Execution: { Name: name, Id: name, Input: input as Json, StartTime: new Date().toISOString() } },
  });

  let failedState: string | undefined;
  // A job step is several states ("X", "X · wait", "X · check status", "X · finished?"):
  // the console shows it as one line from its first state until the next step begins.
  let open: { step: string; label: string; at: number } | undefined;
  const close = (at: number) => {
    if (!open) return;
    const seconds = (at - open.at) / 1000;
    ctx.stateSeconds[open.step] = (ctx.stateSeconds[open.step] ?? 0) + seconds;
    ctx.say(`[${ctx.elapsed()}] ✓ ${open.label} (${seconds.toFixed(1)}s)`);
    const { step } = open;
    open = undefined;
    ctx.onStepDone(step);
  };
  const logs = (async () => {
    for await (const event of execution.eventLogs) {
      if (!('state' in event)) continue;
      const state = event.state.name;
      const step = stepOf(state);
      if (event.type === 'StateEntered') {
        if (open && open.step !== step) close(event.timestamp);
        const quiet = polls.has(state) || ['Wait', 'Choice', 'Pass', 'Succeed', 'Fail'].includes(event.state.type);
        if (!open && !quiet && step === state) {
          open = { step, label: withRound(state, event.state.input), at: event.timestamp };
          ctx.say(`[${ctx.elapsed()}] ▶ ${open.label}`);
        }
      } else if (event.type === 'StateFailed') {
        failedState ??= step;
        open = undefined;
        ctx.say(`[${ctx.elapsed()}] ✗ ${step}: ${event.Error}`);
      } else if (event.type === 'StateRetried') {
        ctx.say(`[${ctx.elapsed()}] ↻ ${state} (retry ${event.retry.attempt})`);
      } else if (event.type === 'StateCaught') {
        ctx.say(`[${ctx.elapsed()}] ↪ ${state} caught → ${event.catch.catcher.Next}`);
      }
    }
    close(Date.now());
  })();
  try {
    const output = await execution.result;
    await logs;
    return { ok: true, output };
  } catch (error) {
    await logs.catch(() => undefined);
    return { ok: false, failedState, reason: (error as Error).message };
  }
}

/** "X · check status" → "X": the step a state belongs to. */
const stepOf = (state: string) => state.split(' · ')[0]!;

const LOOP_STATES = new Set<string>([
  STATE_NAMES.refine,
  STATE_NAMES.scoreRefined,
  STATE_NAMES.gate,
  STATE_NAMES.fineTuneR,
]);

/** Loop states run once per refinement round; the round in their input tells them apart. */
function withRound(state: string, input: unknown): string {
  const round = (input as { round?: unknown } | null)?.round;
  if (!LOOP_STATES.has(state) || typeof round !== 'number') return state;
  return `${state.replace(/ \(round r\)$/, '')} (round ${round})`;
}

export function jobLine(event: LocalJobEvent): string {
  switch (event.status) {
    case 'InProgress':
      return `    job ${event.jobName} (${event.stage}) running ${howStarted(event.mode)}; log: ${event.logPath}`;
    case 'Completed':
      return event.reusedFrom
        ? `    job ${event.jobName} (${event.stage}) completed: reused from cache ${event.reusedFrom}`
        : `    job ${event.jobName} completed in ${event.seconds?.toFixed(1)}s`;
    default:
      return `    job ${event.jobName} ${event.status}: ${event.failureReason ?? ''}\n    log: ${event.logPath}`;
  }
}

function howStarted(mode: LaunchMode | undefined): string {
  if (mode?.kind === 'warm') return 'in a fork of the warm job process';
  return mode?.why ? `as a plain subprocess (${mode.why})` : 'as a plain subprocess';
}

/**
 * `rewardds bench --world <dir>`: RewardDS against its baselines at equal ε on a benchmark
 * world (docs/worlds.md). Every cell (filter method × ε × seed) is one real local run —
 * the synthesized state machine through local mode, the same jobs — on base models
 * pretrained on the world's public corpus. Results land in <out>/results.json after every
 * cell, so running the command again with the same --out resumes where it stopped.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  baseReferences,
  type BenchResults,
  cellsToRun,
  cellsWithoutRewardAccuracy,
  emptyResults,
  type MetricsRow,
  RESULTS_SCHEMA,
  type ReferenceRecord,
  referencesToRun,
  resultRows,
  withCellEnded,
  withCellStarted,
  mergeResults,
  withReference,
  withRewardAccuracy,
} from '../../local/bench/bookkeeping.js';
import { accuracyChart } from '../../local/bench/chart.js';
import { cellRunConfig } from '../../local/bench/cell-config.js';
import {
  absent,
  type CellDiagnostics,
  type CellRewardAccuracy,
  NO_ORACLE,
  NO_PATTERN,
  type OracleFigures,
  rewardAccuracyOf,
} from '../../local/bench/diagnostics.js';
import {
  type BenchCell,
  type BenchGrid,
  DEFAULT_GRID,
  expandCells,
  parseCount,
  parseSeeds,
  parseEpsilons,
  parseMethods,
  quickGrid,
} from '../../local/bench/grid.js';
import { formatDuration, progressLine } from '../../local/bench/progress.js';
import { runCells } from '../../local/bench/schedule.js';
import { metricTable, resultsMarkdown } from '../../local/bench/table.js';
import { type BenchWorld, promptsOf, readWorld, verbatimShare } from '../../local/bench/world.js';
import { STATE_NAMES } from '../../infra/pipeline/definition.js';
import { type BaseModelFolders, runLocal } from '../../local/runner.js';
import { defaultPython } from '../../local/sagemaker/index.js';
import { summarizeRun } from '../../local/summary.js';
import { flagOptions, parseOptions, stringOptions } from '../options.js';
import { usageError } from '../usage-error.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const execFileAsync = promisify(execFile);

/**
 * Pretraining settings of both bases besides the steps, here and as the defaults of
 * bench/world_check.py and bench/dp_sft_reference.py (with their --pretrain-steps default,
 * 1,200): one pretrain cache key, so the references are measured on the very bases the cells
 * use. The vocabulary is learnt from the world's public corpus (at most 1,024 entries); a
 * packed row of 64 learnt tokens holds one or two of its documents (30–50 tokens each).
 */
const PRETRAIN = { batch: 8, vocab: 1024, block: 64 } as const;

/** The pretraining options of the bench scripts (bench/world_check.py add_pretrain_options). */
function pretrainScriptArgs(o: BenchOptions): string[] {
  return [
    ...['--pretrain-steps', String(o.pretrainSteps), '--pretrain-batch', String(PRETRAIN.batch)],
    ...['--pretrain-vocab', String(PRETRAIN.vocab), '--pretrain-block', String(PRETRAIN.block)],
  ];
}

const USAGE = `usage: rewardds bench --world <dir> [--methods reward,ppl,none,rouge-l] [--epsilons 1,8]
                      [--seeds 3] [--rounds 2] [--out <dir>] [--quick] [--config base.json]
                      [--pretrain-steps 1200] [--tiny-random] [--no-reference] [--no-job-cache]
                      [--merge-from <out>,<out>] [--parallel 2]

Runs every cell (filter method × ε × seed) through the local pipeline (rewardds run --local)
on base models pretrained once on the world's corpus.jsonl (cached under .rewardds/pretrain),
and writes <out>/results.json (a row per cell × round, with run ids), <out>/results.md
(mean ± std over seeds, best in bold) and <out>/accuracy.svg. Run again with the same --out
to resume: finished cells are skipped, interrupted or failed ones run again.

  --seeds           a count n (seeds 1..n) or a list ("2,3"): a grid split across processes, one --out each
  --merge-from      comma-separated --out folders of such a split: their finished cells and references
                    are folded into this --out first (then only what none of them finished runs)
  --quick           one ε (8), one seed, every method
  --parallel        cells run at once (default 2, one a core; each job uses one thread). The cells of one
                    ε and seed wait until the first of them has scored its candidates, then reuse its jobs
                    from the job cache; the references run beside the cells
  --config          the run config every cell starts from (default bench/bench.config.json:
                    untuned, token limits with room for whole answers); the cell sets seed,
                    privacy.epsilon, filter.method, refinement.rounds and evaluation.answerPattern
                    (from world.json) on top
  --pretrain-steps  pretraining steps of each base, batch ${PRETRAIN.batch} (pretrain-tiny-model; same cache as
                    bench/world_check.py and bench/dp_sft_reference.py)
  --tiny-random     use local mode's tiny random bases instead (no pretraining: a smoke test)
  --no-reference    skip the per-seed references: the non-private upper bound (target fine-tuned on
                    train.jsonl without DP) and DP-SFT of the target at each ε
  --no-job-cache    run every job of every cell; by default cells share <out>/job-cache, so a cell
                    whose jobs before filtering equal an earlier cell's (same ε and seed, another
                    filter method) completes them with that cell's outputs through the same state
                    machine (rewardds run --local --job-cache). The folder holds private-zone outputs`;

const OPTIONS = {
  ...stringOptions('world', 'methods', 'epsilons', 'seeds', 'rounds', 'out', 'merge-from'),
  ...flagOptions('quick', 'tiny-random', 'no-reference', 'no-job-cache'),
  config: { type: 'string', default: join(REPO_ROOT, 'bench', 'bench.config.json') },
  'pretrain-steps': { type: 'string', default: '1200' },
  parallel: { type: 'string', default: '2' },
} as const;

export interface BenchOptions {
  world: BenchWorld;
  grid: BenchGrid;
  out: string;
  baseConfig: Record<string, unknown>;
  pretrainSteps: number;
  tinyRandom: boolean;
  reference: boolean;
  /** The job-result cache the cells share (runLocal's jobCache); none runs every job. */
  jobCache?: string;
  /** Other --out folders of the same grid (split across processes) whose cells and references are folded in first. */
  mergeFrom?: string[];
  /** Cells run at once (the references run beside them). */
  parallel: number;
  say: (line: string) => void;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOptions('bench', USAGE, argv, OPTIONS);
  if (typeof parsed === 'number') return parsed;
  let options: BenchOptions;
  try {
    const { values } = parsed;
    if (!values.world) throw new Error('--world is required');
    const world = readWorld(values.world);
    let grid: BenchGrid = {
      methods: values.methods ? parseMethods(values.methods) : DEFAULT_GRID.methods,
      epsilons: values.epsilons ? parseEpsilons(values.epsilons) : DEFAULT_GRID.epsilons,
      seeds: values.seeds ? parseSeeds(values.seeds) : DEFAULT_GRID.seeds,
      rounds: values.rounds ? parseCount(values.rounds, '--rounds', 0) : DEFAULT_GRID.rounds,
    };
    if (values.quick) grid = quickGrid(grid);
    const out = resolve(values.out ?? join('bench', 'out', `bench-${world.name}`));
    options = {
      world,
      grid,
      out,
      ...(values['no-job-cache'] ? {} : { jobCache: join(out, 'job-cache') }),
      ...(values['merge-from'] ? { mergeFrom: values['merge-from'].split(',').filter(Boolean) } : {}),
      baseConfig: JSON.parse(readFileSync(values.config!, 'utf8')) as Record<string, unknown>,
      pretrainSteps: parseCount(values['pretrain-steps']!, '--pretrain-steps', 1),
      tinyRandom: values['tiny-random']!,
      reference: !values['no-reference'],
      parallel: parseCount(values.parallel!, '--parallel', 1),
      say: (line) => console.log(line),
    };
    if (!options.tinyRandom && !world.corpus)
      throw new Error(`${world.dir}: no corpus.jsonl to pretrain the bases on (or pass --tiny-random)`);
  } catch (error) {
    return usageError('bench', error as Error, USAGE);
  }
  const results = await runBench(options);
  console.log(`\n${metricTable(resultRows(results), results.references, 'answerAccuracy')}\n`);
  console.log(`results    ${join(options.out, 'results.json')}\n           ${join(options.out, 'results.md')}`);
  console.log(`chart      ${join(options.out, 'accuracy.svg')}`);
  const wanted = new Set(expandCells(options.grid).map((c) => c.id));
  const unfinished = results.cells.filter((c) => wanted.has(c.id) && c.status !== 'finished');
  return unfinished.length ? 1 : 0;
}

export async function runBench(o: BenchOptions): Promise<BenchResults> {
  // The bench's own Python scripts (references, diagnostics) inherit this; local jobs default to it already
  // (local/sagemaker/supervisor.ts says why).
  process.env.OMP_NUM_THREADS ??= '1';
  mkdirSync(join(o.out, 'configs'), { recursive: true });
  mkdirSync(join(o.out, 'logs'), { recursive: true });
  let results = mergeResults(
    loadResults(o.out, o.world.name, o.grid),
    (o.mergeFrom ?? []).map((dir) => {
      if (!existsSync(join(dir, 'results.json'))) throw new Error(`--merge-from ${dir}: no results.json there`);
      return loadResults(dir, o.world.name, o.grid);
    }),
  );
  const save = () => writeOutputs(o.out, results, o.world);
  const cells = expandCells(o.grid);
  const todo = cellsToRun(cells, results);
  o.say(
    `bench ${o.world.name}: ${cells.length} cells, ${cells.length - todo.length} already finished, ${todo.length} to run`,
  );

  const bases = o.tinyRandom ? undefined : await pretrainedBases(o);
  // (Pretrained even when every cell is done: a cache hit, and the references compare against it.)
  // The references read only the world and the bases, so they run beside the cells: the cells'
  // jobs keep one core busy, the references the other.
  const references = measureReferences(o, results.references, bases, (ref) => {
    results = withReference(results, ref);
    save();
  });
  const cellSeconds: number[] = [];
  let done = cells.length - todo.length;
  await runCells(todo, o.parallel, async (cell, prefixPassed) => {
    results = withCellStarted(results, cell, new Date());
    save();
    const t0 = Date.now();
    const outcome = await runCell(o, cell, bases, prefixPassed);
    const seconds = (Date.now() - t0) / 1000;
    results = withCellEnded(results, cell, { ...outcome, seconds }, new Date());
    save();
    cellSeconds.push(seconds);
    done += 1;
    const reused = outcome.reusedJobs ? `; ${outcome.reusedJobs} jobs reused from the job cache` : '';
    const status = outcome.succeeded ? `finished (run ${outcome.runId}${reused})` : `FAILED: ${outcome.failure}`;
    o.say(
      progressLine({ done, total: cells.length, cell: cell.id, status, seconds, cellSeconds, workers: o.parallel }),
    );
  });

  // Cells finished before the bench measured the reward proxy get it now, from their run folders.
  for (const cell of cellsWithoutRewardAccuracy(results, Boolean(o.world.answerPattern))) {
    const runDir = runFolder(o, cell.id, cell.runId!);
    // A merged grid's run folders stay in the --out of each part: keep what was recorded there.
    if (!existsSync(runDir) && cell.rewardAccuracy) continue;
    const value = existsSync(runDir)
      ? await rewardAccuracy(o, cell.id, runDir, bases)
      : absent(`the run folder ${runDir} is gone`);
    results = withRewardAccuracy(results, cell.id, value);
    save();
  }

  for (const ref of baseReferences(results)) results = withReference(results, ref);
  await references;
  save();
  return results;
}

/** The non-private bound and DP-SFT, once per seed of the grid (and per ε for DP-SFT); those already measured are kept. */
async function measureReferences(
  o: BenchOptions,
  measured: BenchResults['references'],
  bases: BaseModelFolders | undefined,
  record: (ref: ReferenceRecord) => void,
): Promise<void> {
  const tasks = referencesToRun(o.grid, measured);
  for (const seed of [...new Set(tasks.map((t) => t.seed))]) {
    if (tasks.some((t) => t.seed === seed && t.kind === 'non-private'))
      record(await nonPrivateReference(o, seed, bases?.target));
    const epsilons = tasks.filter((t) => t.seed === seed && t.kind === 'dp-sft').map((t) => t.epsilon!);
    if (epsilons.length) for (const ref of await dpSftReferences(o, seed, epsilons, bases?.target)) record(ref);
  }
}

/** The proxy base a cell ran on: the pretrained one, or the tiny random one local mode built in its work folder. */
const proxyBase = (o: BenchOptions, bases: BaseModelFolders | undefined, cellId: string) =>
  bases?.proxy ?? join(cellWorkdir(o, cellId), 'models', 'proxy');

/**
 * The run's DP reward proxy ranking held-out pairs of the private test set
 * (bench/reward_accuracy.py). It reads private records, so it runs where the private zone is:
 * in local mode, this machine (which runs the private jobs too); it prints aggregates only.
 * The base answers it compares against are cached under <out>/reference/, once per base.
 */
async function rewardAccuracy(
  o: BenchOptions,
  cellId: string,
  runDir: string,
  bases: BaseModelFolders | undefined,
): Promise<CellRewardAccuracy> {
  try {
    const { stdout } = await execFileAsync(
      defaultPython(),
      [
        join(REPO_ROOT, 'bench', 'reward_accuracy.py'),
        '--run',
        runDir,
        '--base',
        proxyBase(o, bases, cellId),
        '--cache',
        join(o.out, 'reference'),
        ...(o.world.answerPattern ? ['--answer-pattern', o.world.answerPattern] : []),
      ],
      { env: { ...process.env, HF_HUB_OFFLINE: '1' }, maxBuffer: 16 << 20 },
    );
    return rewardAccuracyOf(JSON.parse(stdout.trim().split('\n').pop()!));
  } catch (error) {
    return absent(`bench/reward_accuracy.py failed: ${(error as Error).message.split('\n')[0]}`);
  }
}

/**
 * A cell's own work folder, so cells can run at once: the cells of a seed share a run id
 * (their uploads are the same), and one folder would hold one copy of that run.
 */
const cellWorkdir = (o: BenchOptions, cellId: string) => join(o.out, 'work', cellId);

/** Where a cell's run was copied: its own work folder, or the shared one of benches from before cellWorkdir. */
function runFolder(o: BenchOptions, cellId: string, runId: string): string {
  const own = join(cellWorkdir(o, cellId), 'runs', runId);
  return existsSync(own) ? own : join(o.out, 'work', 'runs', runId);
}

async function runCell(
  o: BenchOptions,
  cell: BenchCell,
  bases: BaseModelFolders | undefined,
  prefixPassed: () => void,
) {
  const configPath = join(o.out, 'configs', `${cell.id}.json`);
  writeFileSync(configPath, `${JSON.stringify(cellRunConfig(o.baseConfig, cell, o.world.answerPattern), null, 2)}\n`);
  const log = join(o.out, 'logs', `${cell.id}.log`);
  writeFileSync(log, '');
  o.say(`cell ${cell.id}: running (log ${log})`);
  try {
    const result = await runLocal({
      train: o.world.train,
      test: o.world.test,
      seeds: o.world.seeds,
      config: configPath,
      workdir: cellWorkdir(o, cell.id),
      baseModels: bases,
      progress: (line) => appendFileSync(log, `${line}\n`),
      // The last step every method shares (filtering is where they part).
      onStepDone: (step) => step === STATE_NAMES.score && prefixPassed(),
      ...(o.jobCache ? { jobCache: o.jobCache } : {}),
    });
    const summary = summarizeRun(result.outputDir);
    const succeeded = result.status === 'succeeded';
    return {
      runId: result.runId,
      succeeded,
      epsilonSpent: summary.epsilon,
      evaluation: (summary.evaluation?.rows ?? []) as MetricsRow[],
      diagnostics: await oracleDiagnostics(o.world, result.outputDir),
      rewardAccuracy: succeeded
        ? await rewardAccuracy(o, cell.id, result.outputDir, bases)
        : absent('the run did not finish'),
      failure: result.failure ? `${result.failure.state}: ${result.failure.reason}` : undefined,
      reusedJobs: result.jobs.filter((j) => j.reusedFrom).length,
    };
  } catch (error) {
    return {
      runId: '',
      succeeded: false,
      epsilonSpent: null,
      evaluation: [],
      diagnostics: absent('the run did not finish'),
      rewardAccuracy: absent('the run did not finish'),
      failure: (error as Error).message,
    };
  }
}

/** Pool correctness, coverage and generator validity from the world's oracle (bench/oracle_diagnostics.py); absent without one. */
async function oracleDiagnostics(world: BenchWorld, runDir: string): Promise<CellDiagnostics> {
  if (!world.hasOracle) return absent(NO_ORACLE);
  if (!world.answerPattern) return absent(NO_PATTERN);
  try {
    const { stdout } = await execFileAsync(
      defaultPython(),
      [
        join(REPO_ROOT, 'bench', 'oracle_diagnostics.py'),
        '--world',
        world.dir,
        '--run',
        runDir,
        '--pattern',
        world.answerPattern,
      ],
      { maxBuffer: 16 << 20 },
    );
    return { figures: JSON.parse(stdout.trim().split('\n').pop()!) as OracleFigures };
  } catch (error) {
    return absent(`bench/oracle_diagnostics.py failed: ${(error as Error).message.split('\n')[0]}`);
  }
}

/**
 * The two bases pretrained on the world's public corpus, once per (corpus, size, steps): pretrain-tiny-model's cache.
 * Both at once, one thread each: two processes keep both cores busy and spare a cold start the slower of the two waits.
 */
async function pretrainedBases(o: BenchOptions): Promise<BaseModelFolders> {
  const cache = join(REPO_ROOT, '.rewardds', 'pretrain');
  const folders: Partial<BaseModelFolders> = {};
  o.say(`pretraining the proxy and target bases on ${o.world.corpus} (${o.pretrainSteps} steps; reused if cached)`);
  await Promise.all(
    (['proxy', 'target'] as const).map(async (size) => {
      const { stdout } = await execFileAsync(
        defaultPython(),
        [
          ...['-m', 'rewardds_jobs', 'pretrain-tiny-model', '--corpus', o.world.corpus!, '--cache', cache],
          ...['--size', size, '--steps', String(o.pretrainSteps), '--batch-size', String(PRETRAIN.batch)],
          ...['--vocab', String(PRETRAIN.vocab), '--block', String(PRETRAIN.block)],
        ],
        {
          env: { ...process.env, PYTHONPATH: join(REPO_ROOT, 'jobs'), HF_HUB_OFFLINE: '1', OMP_NUM_THREADS: '1' },
          maxBuffer: 16 << 20,
        },
      );
      const match = / at (\S+)\s*$/.exec(stdout.trim());
      if (!match) throw new Error(`pretrain-tiny-model printed no model folder: ${stdout.slice(-300)}`);
      folders[size] = match[1]!;
      o.say(`  ${stdout.trim().split('\n').pop()}`);
    }),
  );
  return folders as BaseModelFolders;
}

/**
 * The non-private upper bound: the target fine-tuned directly on train.jsonl without DP,
 * by bench/world_check.py (the train-target and evaluate stages as the container runs
 * them, on the same pretrained base). A reference, not the product, so it may bypass
 * the state machine; it runs once per grid seed, with that seed, like the cells.
 */
async function nonPrivateReference(
  o: BenchOptions,
  seed: number,
  targetBase: string | undefined,
): Promise<ReferenceRecord> {
  const label = 'NON-PRIVATE upper bound (target fine-tuned on the private train set, no DP)';
  const base = { kind: 'non-private' as const, label, seed, epsilon: null };
  if (!o.reference || o.tinyRandom || !o.world.answerPattern)
    return {
      ...base,
      row: null,
      source: 'not run',
      reason: 'skipped (--no-reference, --tiny-random or no answerPattern)',
    };
  const dir = join(o.out, 'reference');
  const out = join(dir, `world-check-seed${seed}.json`);
  o.say(`non-private upper bound, seed ${seed}: bench/world_check.py (train-target without DP, then evaluate)`);
  // Its stdout names the aggregate figures only; the private records stay in its work folder.
  const run = await runBenchScript(
    o,
    'world_check.py',
    [
      ...['--world', o.world.dir, '--cache', join(REPO_ROOT, '.rewardds', 'pretrain')],
      ...pretrainScriptArgs(o),
      ...['--seed', String(seed), '--work', join(dir, `work-seed${seed}`), '--out', out],
      ...trainingArgs(o.baseConfig, 'target', 'target'),
      ...['--skip-base', '--probe-train', '0'],
    ],
    (): ReferenceRecord => {
      const { figures } = JSON.parse(readFileSync(out, 'utf8')) as { figures: Record<string, Record<string, unknown>> };
      const usedBase = figures.pretrainTarget?.path as string | undefined;
      if (targetBase && usedBase && resolve(usedBase) !== resolve(targetBase))
        return { ...base, row: null, source: out, reason: `measured on another target base (${usedBase})` };
      const row = (figures.nonPrivateTargetPrivateTest ?? null) as MetricsRow | null;
      return { ...base, row, source: `bench/world_check.py → ${out}` };
    },
  );
  return run.ok ? run.value : { ...base, row: null, source: 'bench/world_check.py', reason: run.failure };
}

/** A config section's number, as a command-line value; undefined when the base config leaves it to the default. */
function configNumber(config: Record<string, unknown>, section: string, key: string): string | undefined {
  const value = (config[section] as Record<string, unknown> | undefined)?.[key];
  return typeof value === 'number' ? String(value) : undefined;
}

/** The references train as the cells' target and DP proxies do (same epochs, batch, learning rate), so the rows compare data, not settings. */
function trainingArgs(config: Record<string, unknown>, section: 'target' | 'generator', prefix: string): string[] {
  return (['epochs', 'batchSize', 'learningRate'] as const).flatMap((key) => {
    const value = configNumber(config, section, key);
    const flag = { epochs: 'epochs', batchSize: 'batch', learningRate: 'lr' }[key];
    return value === undefined ? [] : [`--${prefix}-${flag}`, value];
  });
}

/**
 * Runs bench/<script> from the repo root, then `read` (its output file); says how long both
 * took, or the first line of why either failed, which it returns for the reference's reason.
 */
async function runBenchScript<T>(
  o: BenchOptions,
  script: string,
  args: string[],
  read: () => T,
): Promise<{ ok: true; value: T } | { ok: false; failure: string }> {
  const t0 = Date.now();
  try {
    await execFileAsync(defaultPython(), [join(REPO_ROOT, 'bench', script), ...args], {
      cwd: REPO_ROOT,
      maxBuffer: 64 << 20,
    });
    const value = read();
    o.say(`  done in ${formatDuration((Date.now() - t0) / 1000)}`);
    return { ok: true, value };
  } catch (error) {
    const failure = `bench/${script} failed: ${(error as Error).message.split('\n')[0]}`;
    o.say(`  ${failure}`);
    return { ok: false, failure };
  }
}

/**
 * DP-SFT of the target directly at each ε (bench/dp_sft_reference.py: the train-generator
 * stage's DP-SGD on the target base, then evaluate). A reference, once per grid seed, with that seed.
 */
async function dpSftReferences(
  o: BenchOptions,
  seed: number,
  epsilons: number[],
  targetBase: string | undefined,
): Promise<ReferenceRecord[]> {
  const refs = (row: MetricsRow | null, epsilon: number, source: string, reason?: string): ReferenceRecord => ({
    kind: 'dp-sft',
    label: 'DP-SFT of the target directly (same ε)',
    seed,
    epsilon,
    row,
    source,
    ...(reason ? { reason } : {}),
  });
  if (!o.reference || o.tinyRandom || !o.world.answerPattern)
    return epsilons.map((e) => refs(null, e, 'not run', 'skipped (--no-reference, --tiny-random or no answerPattern)'));
  const out = join(o.out, 'reference', `dp-sft-seed${seed}.json`);
  o.say(`DP-SFT of the target at ε ∈ {${epsilons.join(', ')}}, seed ${seed}: bench/dp_sft_reference.py`);
  const run = await runBenchScript(
    o,
    'dp_sft_reference.py',
    [
      ...['--world', o.world.dir, '--epsilons', epsilons.join(',')],
      ...pretrainScriptArgs(o),
      ...['--seed', String(seed), '--work', join(o.out, 'reference', `dp-sft-work-seed${seed}`), '--out', out],
      ...trainingArgs(o.baseConfig, 'generator', 'dp'),
    ],
    () => undefined,
  );
  const failure = run.ok ? undefined : run.failure;
  const report = existsSync(out)
    ? (JSON.parse(readFileSync(out, 'utf8')) as { targetBase?: string; byEpsilon: Record<string, { row: MetricsRow }> })
    : undefined;
  if (report?.targetBase && targetBase && resolve(report.targetBase) !== resolve(targetBase))
    return epsilons.map((e) => refs(null, e, out, `measured on another target base (${report.targetBase})`));
  const measured = report?.byEpsilon ?? {};
  return epsilons.map((e) => {
    const found = measured[String(e)];
    return found ? refs(found.row, e, `bench/dp_sft_reference.py → ${out}`) : refs(null, e, 'not measured', failure);
  });
}

function loadResults(out: string, world: string, grid: BenchGrid): BenchResults {
  const path = join(out, 'results.json');
  if (!existsSync(path)) return emptyResults(world, grid);
  const saved = JSON.parse(readFileSync(path, 'utf8')) as BenchResults;
  if (saved.schema !== RESULTS_SCHEMA) throw new Error(`${path}: not a ${RESULTS_SCHEMA} file`);
  if (saved.world !== world) throw new Error(`${path} holds world '${saved.world}', not '${world}': use another --out`);
  return { schema: RESULTS_SCHEMA, world, grid, cells: saved.cells ?? [], references: saved.references ?? [] };
}

/** results.json (written whole, then renamed, so an interrupted write never loses the finished cells), results.md and the chart. */
function writeOutputs(out: string, results: BenchResults, world: BenchWorld) {
  const rows = resultRows(results);
  const testPromptsInTrain = verbatimShare(promptsOf(world.test), promptsOf(world.train));
  const json = {
    schema: results.schema,
    world: results.world,
    grid: results.grid,
    worldFigures: { testPromptsInTrain },
    diagnosticsNote: `${
      world.hasOracle
        ? 'per row: candidateCorrectness (all candidates of round 0, before filtering), poolCorrectness and coverage (that round’s pool), generatorValidity (synthetic queries the oracle parses), from bench/oracle_diagnostics.py'
        : `oracle diagnostics absent: ${NO_ORACLE}`
    }; rewardAccuracy (per cell, on every row of it): the DP reward proxy on held-out pairs of the private test set, true response vs the proxy base's greedy answer, ties half, n = pairs (bench/reward_accuracy.py; cells[].rewardAccuracy has ties and the identical answers left out); rewardFactAccuracy (per cell): the same proxy on minimal pairs, each true test response vs itself with another test record's fact (answerPattern group 1), n = pairs`,
    rows,
    references: results.references,
    cells: results.cells,
  };
  const tmp = join(out, 'results.json.tmp');
  writeFileSync(tmp, `${JSON.stringify(json, null, 1)}\n`);
  renameSync(tmp, join(out, 'results.json'));
  const notes = [
    `world: ${world.dir}`,
    `share of test prompts that occur verbatim in the train set: ${testPromptsInTrain === null ? 'no test prompts' : testPromptsInTrain.toFixed(3)}`,
    world.hasOracle
      ? 'oracle diagnostics (pool correctness, coverage, generator validity): per row in results.json'
      : `oracle diagnostics (pool correctness, coverage, generator validity): absent — ${NO_ORACLE}`,
    'reward proxy accuracy: held-out pairs of the private test set (true response vs the proxy base’s greedy answer), ties half; 0.5 is chance (docs/worlds.md)',
  ];
  writeFileSync(join(out, 'results.md'), resultsMarkdown(results.world, rows, results.references, notes));
  writeFileSync(join(out, 'accuracy.svg'), accuracyChart(rows, results.references));
}

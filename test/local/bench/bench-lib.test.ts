/** The pure parts of `rewardds bench`: the grid, the resume bookkeeping, the tables, absent diagnostics. */
import { describe, expect, it } from 'vitest';
import {
  baseReferences,
  cellsToRun,
  cellsWithoutRewardAccuracy,
  emptyResults,
  type CellOutcome,
  mergeResults,
  type ReferenceRecord,
  referencesToRun,
  resultRows,
  withCellEnded,
  withCellStarted,
  withReference,
  withRewardAccuracy,
} from '../../../local/bench/bookkeeping.js';
import { cellRunConfig } from '../../../local/bench/cell-config.js';
import { accuracyChart } from '../../../local/bench/chart.js';
import {
  absent,
  NO_ORACLE,
  NO_REWARD_PAIRS,
  NOT_RECORDED,
  rewardAccuracyOf,
  roundDiagnostics,
  NO_MINIMAL_PAIRS,
} from '../../../local/bench/diagnostics.js';
import {
  type BenchGrid,
  DEFAULT_GRID,
  expandCells,
  parseEpsilons,
  parseSeeds,
  parseMethods,
  quickGrid,
} from '../../../local/bench/grid.js';
import { formatDuration, progressLine } from '../../../local/bench/progress.js';
import { verbatimShare } from '../../../local/bench/world.js';
import { diagnosticTable, meanStd, metricTable, resultsMarkdown } from '../../../local/bench/table.js';

const GRID: BenchGrid = { methods: ['reward', 'none'], epsilons: [1, 8], seeds: [1, 2], rounds: 1 };
const T0 = new Date('2026-01-01T00:00:00Z');

function outcome(accuracy: number[], extra: Partial<CellOutcome> = {}): CellOutcome {
  return {
    runId: `run-${accuracy.join('-')}`,
    succeeded: true,
    seconds: 10,
    epsilonSpent: 7.99,
    evaluation: [
      { model: 'base', n: 4, rougeL: 0.1, answerAccuracy: 0 },
      ...accuracy.map((a, r) => ({
        model: `round-${r}`,
        n: 4,
        rougeL: 0.2,
        bleu: 3,
        exactMatch: 0,
        answerAccuracy: a,
      })),
    ],
    diagnostics: absent(NO_ORACLE),
    rewardAccuracy: absent('the run has no trained reward proxy (no train-reward output)'),
    ...extra,
  };
}

const nonPrivate = (seed: number, answerAccuracy: number | null): ReferenceRecord => ({
  kind: 'non-private',
  label: 'NON-PRIVATE bound',
  seed,
  epsilon: null,
  row: answerAccuracy === null ? null : { model: 'round-0', answerAccuracy },
  source: 'test',
});

function twoSeeds() {
  let results = emptyResults('w', GRID);
  const accuracy: Record<string, number> = {
    'reward-eps1-seed1': 0.2,
    'reward-eps1-seed2': 0.4,
    'none-eps1-seed1': 0.1,
    'none-eps1-seed2': 0.1,
    'reward-eps8-seed1': 0.5,
    'reward-eps8-seed2': 0.5,
    'none-eps8-seed1': 0.9,
    'none-eps8-seed2': 0.7,
  };
  for (const cell of expandCells({ ...GRID, rounds: 0 })) {
    results = withCellStarted(results, cell, T0);
    results = withCellEnded(results, cell, outcome([accuracy[cell.id]!]), T0);
  }
  return results;
}

describe('the grid', () => {
  it('expands every method × ε × seed once, seed-major, with stable ids', () => {
    const cells = expandCells(GRID);
    expect(cells.map((c) => c.id)).toEqual([
      'reward-eps1-seed1',
      'none-eps1-seed1',
      'reward-eps8-seed1',
      'none-eps8-seed1',
      'reward-eps1-seed2',
      'none-eps1-seed2',
      'reward-eps8-seed2',
      'none-eps8-seed2',
    ]);
    expect(cells.every((c) => c.rounds === 1)).toBe(true);
    expect(expandCells(DEFAULT_GRID)).toHaveLength(4 * 2 * 3);
  });

  it('--quick keeps every method, one ε (8) and one seed', () => {
    const quick = quickGrid(DEFAULT_GRID);
    expect(quick).toEqual({ methods: ['reward', 'ppl', 'none', 'rouge-l'], epsilons: [8], seeds: [1], rounds: 2 });
    expect(expandCells(quick)).toHaveLength(4);
  });

  it('parses the lists and refuses what is not a method or a positive ε', () => {
    expect(parseMethods('ppl, reward,ppl')).toEqual(['ppl', 'reward']);
    expect(parseEpsilons('8,1,4')).toEqual([1, 4, 8]);
    expect(parseSeeds('3')).toEqual([1, 2, 3]);
    expect(parseSeeds('3,2,3')).toEqual([2, 3]);
    expect(() => parseSeeds('2,x')).toThrow(/integers/);
    expect(() => parseSeeds('0')).toThrow(/≥ 1/);
    expect(() => parseMethods('reward,best')).toThrow(/unknown filter method 'best'/);
    expect(() => parseEpsilons('1,0')).toThrow(/positive/);
  });
});

describe('the cell run config', () => {
  it('sets the cell on top of the base config, keeping the rest of each section', () => {
    const base = { seed: 7, privacy: { epsilon: 2, delta: 1e-6 }, filter: { method: 'reward', keepFraction: 0.25 } };
    const [cell] = expandCells({ methods: ['ppl'], epsilons: [4], seeds: [3], rounds: 0 });
    expect(cellRunConfig(base, cell!, 'berth ([A-Z]-\\d{2})')).toEqual({
      seed: 3,
      privacy: { epsilon: 4, delta: 1e-6 },
      filter: { method: 'ppl', keepFraction: 0.25 },
      refinement: { rounds: 0 },
      evaluation: { answerPattern: 'berth ([A-Z]-\\d{2})' },
    });
    expect(cellRunConfig(base, cell!, undefined).evaluation).toEqual({});
  });
});

describe('bookkeeping and resume', () => {
  const cells = expandCells(GRID);

  it('skips a finished cell and reruns one that was started but never finished', () => {
    let results = emptyResults('w', GRID);
    results = withCellStarted(results, cells[0]!, T0);
    results = withCellEnded(results, cells[0]!, outcome([0.5, 0.6]), T0);
    results = withCellStarted(results, cells[1]!, T0); // interrupted here
    const again = JSON.parse(JSON.stringify(results)); // as read back from results.json
    const todo = cellsToRun(cells, again).map((c) => c.id);
    expect(todo).not.toContain(cells[0]!.id);
    expect(todo).toContain(cells[1]!.id);
    expect(todo).toHaveLength(cells.length - 1);
  });

  it('reruns a failed cell, and one finished with another number of rounds', () => {
    let results = emptyResults('w', GRID);
    results = withCellStarted(results, cells[0]!, T0);
    results = withCellEnded(results, cells[0]!, outcome([], { succeeded: false, failure: 'Train G: boom' }), T0);
    expect(results.cells[0]).toMatchObject({ status: 'failed', failure: 'Train G: boom' });
    expect(cellsToRun(cells, results)).toHaveLength(cells.length);
    const moreRounds = expandCells({ ...GRID, rounds: 2 });
    results = withCellStarted(results, cells[0]!, T0);
    results = withCellEnded(results, cells[0]!, outcome([0.5, 0.6]), T0);
    expect(cellsToRun(moreRounds, results)).toHaveLength(moreRounds.length);
  });

  it('merges a grid split across processes: finished cells and measured references win, clashes are refused', () => {
    const part = (seed: number) => {
      let results = emptyResults('w', GRID);
      for (const cell of cells.filter((c) => c.seed === seed)) {
        results = withCellStarted(results, cell, T0);
        results = withCellEnded(results, cell, outcome([0.1 * seed], { runId: `run-${cell.id}` }), T0);
      }
      return withReference(results, nonPrivate(seed, 0.5 + seed / 10));
    };
    let here = emptyResults('w', GRID);
    here = withCellStarted(here, cells.find((c) => c.seed === 2)!, T0); // interrupted here, finished elsewhere
    here = withReference(here, nonPrivate(2, null)); // failed here, measured elsewhere
    const merged = mergeResults(here, [part(1), part(2)]);
    expect(cellsToRun(cells, merged)).toEqual([]);
    expect(merged.cells).toHaveLength(cells.length);
    expect(merged.references.map((r) => [r.seed, r.row?.answerAccuracy])).toEqual([
      [1, 0.6],
      [2, 0.7],
    ]);
    expect(mergeResults(merged, [part(1)]).cells).toHaveLength(cells.length); // the same records again: no change
    const failedAgain = withReference(emptyResults('w', GRID), nonPrivate(1, null));
    expect(mergeResults(merged, [failedAgain]).references.find((r) => r.seed === 1)?.row?.answerAccuracy).toBe(0.6);
    const rerun = withCellEnded(part(1), cells[0]!, outcome([0.9], { runId: 'another-run' }), T0);
    expect(() => mergeResults(merged, [rerun])).toThrow(/finished in two runs/);
    expect(() => mergeResults(merged, [emptyResults('other', GRID)])).toThrow(/world 'other'/);
  });

  it('asks for each reference once per seed (and ε), keeping those measured and redoing failed ones', () => {
    const all = referencesToRun(GRID, []);
    expect(all).toEqual([
      { kind: 'non-private', seed: 1, epsilon: null },
      { kind: 'dp-sft', seed: 1, epsilon: 1 },
      { kind: 'dp-sft', seed: 1, epsilon: 8 },
      { kind: 'non-private', seed: 2, epsilon: null },
      { kind: 'dp-sft', seed: 2, epsilon: 1 },
      { kind: 'dp-sft', seed: 2, epsilon: 8 },
    ]);
    let results = emptyResults('w', GRID);
    results = withReference(results, nonPrivate(1, 0.9));
    results = withReference(results, nonPrivate(2, null)); // failed: no row
    results = withReference(results, nonPrivate(0, 0.9)); // another seed's: not this grid's
    results = withReference(results, {
      kind: 'dp-sft',
      label: 'DP-SFT',
      seed: 2,
      epsilon: 8,
      row: { model: 'round-0', answerAccuracy: 0.3 },
      source: 'test',
    });
    const again = JSON.parse(JSON.stringify(results)) as typeof results; // as read back from results.json
    expect(referencesToRun(GRID, again.references)).toEqual([
      { kind: 'dp-sft', seed: 1, epsilon: 1 },
      { kind: 'dp-sft', seed: 1, epsilon: 8 },
      { kind: 'non-private', seed: 2, epsilon: null },
      { kind: 'dp-sft', seed: 2, epsilon: 1 },
    ]);
  });

  it('keeps one record per cell: a rerun replaces the interrupted one', () => {
    let results = withCellStarted(emptyResults('w', GRID), cells[0]!, T0);
    results = withCellStarted(results, cells[0]!, T0);
    results = withCellEnded(results, cells[0]!, outcome([0.5, 0.6]), T0);
    expect(results.cells).toHaveLength(1);
    expect(results.cells[0]!.status).toBe('finished');
  });

  it('refuses to end a cell that never started', () => {
    expect(() => withCellEnded(emptyResults('w', GRID), cells[0]!, outcome([0.5]), T0)).toThrow(
      /without having started/,
    );
  });

  it('publishes one row per finished cell × round with the run id, and the base row per seed as a reference', () => {
    let results = emptyResults('w', GRID);
    results = withCellStarted(results, cells[0]!, T0);
    results = withCellEnded(results, cells[0]!, outcome([0.5, 0.75]), T0);
    results = withCellStarted(results, cells[1]!, T0);
    const rows = resultRows(results);
    expect(rows.map((r) => [r.cell, r.round, r.answerAccuracy, r.runId])).toEqual([
      ['reward-eps1-seed1', 0, 0.5, 'run-0.5-0.75'],
      ['reward-eps1-seed1', 1, 0.75, 'run-0.5-0.75'],
    ]);
    const [base] = baseReferences(results);
    expect(base).toMatchObject({ kind: 'base', seed: 1, row: { model: 'base', answerAccuracy: 0 } });
  });
});

describe('diagnostics', () => {
  it('are absent — null with the reason, never zero — for every key when the cell has none', () => {
    const d = roundDiagnostics(absent(NO_ORACLE), 1, absent(NO_REWARD_PAIRS));
    expect(Object.keys(d).sort()).toEqual([
      'candidateCorrectness',
      'coverage',
      'generatorValidity',
      'poolCorrectness',
      'rewardAccuracy',
      'rewardFactAccuracy',
    ]);
    const { rewardAccuracy, rewardFactAccuracy, ...oracle } = d;
    for (const value of Object.values(oracle)) expect(value).toEqual({ value: null, reason: NO_ORACLE });
    // The reward proxy's accuracy needs no oracle: its own reason, or that it was never recorded.
    expect(rewardAccuracy).toEqual({ value: null, reason: NO_REWARD_PAIRS });
    expect(rewardFactAccuracy).toEqual({ value: null, reason: NO_REWARD_PAIRS });
    expect(roundDiagnostics(absent(NO_ORACLE), 1).rewardAccuracy).toEqual({ value: null, reason: NOT_RECORDED });
    expect(roundDiagnostics(absent(NO_ORACLE), 1).rewardFactAccuracy).toEqual({ value: null, reason: NOT_RECORDED });
  });

  it('give the minimal-pair figure where the script measured it, and say why where it did not', () => {
    const printed = { accuracy: 0.9, pairs: 120, ties: 0, swappedAccuracy: 0.625, swappedPairs: 118 };
    const measuredBoth = rewardAccuracyOf(printed);
    expect(roundDiagnostics(absent(NO_ORACLE), 0, measuredBoth).rewardFactAccuracy).toEqual({ value: 0.625, n: 118 });
    const withoutPattern = rewardAccuracyOf({ ...printed, swappedAccuracy: null });
    expect(roundDiagnostics(absent(NO_ORACLE), 0, withoutPattern).rewardFactAccuracy).toEqual(absent(NO_MINIMAL_PAIRS));
    const [cell] = expandCells(GRID);
    let results = withCellStarted(emptyResults('w', GRID), cell!, T0);
    results = withCellEnded(results, cell!, outcome([0.5], { rewardAccuracy: withoutPattern }), T0);
    // A cell measured before the minimal pairs existed is measured again only where the world can.
    expect(cellsWithoutRewardAccuracy(results)).toEqual([]);
    expect(cellsWithoutRewardAccuracy(results, true).map((c) => c.id)).toEqual([cell!.id]);
    results = withRewardAccuracy(results, cell!.id, measuredBoth);
    expect(cellsWithoutRewardAccuracy(results, true)).toEqual([]);
    const rows = resultRows(results);
    expect(diagnosticTable(rows, 'rewardFactAccuracy')!.split('\n')).toContain('| reward | 0 | **0.625** |');
  });

  it('give the reward proxy accuracy to every round of its cell, with the number of pairs', () => {
    const printed = { accuracy: 0.75, pairs: 96, ties: 2, identicalLeftOut: 24, testRecords: 120 };
    const [cell] = expandCells(GRID);
    let results = withCellStarted(emptyResults('w', GRID), cell!, T0);
    results = withCellEnded(results, cell!, outcome([0.5, 0.6], { rewardAccuracy: rewardAccuracyOf(printed) }), T0);
    expect(results.cells[0]!.rewardAccuracy).toEqual({ figures: printed });
    const rows = resultRows(results);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.diagnostics.rewardAccuracy).toEqual({ value: 0.75, n: 96 });
    expect(diagnosticTable(rows, 'rewardAccuracy')!.split('\n')).toContain('| reward | 1 | **0.750** |');
    // What the script prints when it measured nothing becomes absent with its reason, not 0.
    expect(rewardAccuracyOf({ accuracy: null, reason: 'the run has no private test records' })).toEqual(
      absent('the run has no private test records'),
    );
    expect(rewardAccuracyOf({ accuracy: null, pairs: 0 })).toEqual(absent(NO_REWARD_PAIRS));
  });

  it('measure the reward proxy of finished cells recorded before it existed, once', () => {
    const [first, second] = expandCells(GRID);
    let results = emptyResults('w', GRID);
    for (const cell of [first!, second!]) {
      results = withCellStarted(results, cell, T0);
      results = withCellEnded(results, cell, outcome([0.5]), T0);
    }
    // As an older results.json reads back: no rewardAccuracy key on the first cell.
    const old = JSON.parse(JSON.stringify(results));
    delete old.cells.find((c: { id: string }) => c.id === first!.id).rewardAccuracy;
    expect(cellsWithoutRewardAccuracy(old).map((c) => c.id)).toEqual([first!.id]);
    const done = withRewardAccuracy(old, first!.id, rewardAccuracyOf({ accuracy: 0.5, pairs: 4 }));
    expect(cellsWithoutRewardAccuracy(done)).toEqual([]);
    expect(done.cells.find((c) => c.id === first!.id)).toMatchObject({ status: 'finished', runId: 'run-0.5' });
  });

  it("take each round's pool figures, and mark a stage the run did not write as absent", () => {
    const figures = {
      generatorValidity: 0.75,
      poolCorrectness: { candidates: 0.1, 'pool-round-0': 0.25, 'pool-round-1': 0 },
      coverage: { candidates: 0.5, 'pool-round-0': 0.4, 'pool-round-1': 0 },
      privateFacts: 10,
    };
    expect(roundDiagnostics({ figures }, 1)).toEqual({
      candidateCorrectness: { value: 0.1 },
      poolCorrectness: { value: 0 },
      coverage: { value: 0 },
      generatorValidity: { value: 0.75 },
      rewardAccuracy: { value: null, reason: NOT_RECORDED },
      rewardFactAccuracy: { value: null, reason: NOT_RECORDED },
    });
    expect(roundDiagnostics({ figures }, 0).poolCorrectness).toEqual({ value: 0.25 });
    const none = roundDiagnostics({ figures: { ...figures, generatorValidity: null } }, 2);
    expect(none.poolCorrectness.value).toBeNull();
    expect(none.coverage.value).toBeNull();
    expect(none.generatorValidity.value).toBeNull();
  });

  it('get a table where measured, and none (no zeros) where absent', () => {
    const cells = expandCells({ methods: ['reward'], epsilons: [8], seeds: [1, 2], rounds: 0 });
    const figures = (c: number) => ({
      generatorValidity: 1,
      poolCorrectness: { candidates: 0.1, 'pool-round-0': c },
      coverage: { 'pool-round-0': 0.5 },
      privateFacts: 2,
    });
    let results = emptyResults('w', GRID);
    cells.forEach((cell, i) => {
      results = withCellStarted(results, cell, T0);
      results = withCellEnded(results, cell, outcome([0.5], { diagnostics: { figures: figures(i ? 0.6 : 0.2) } }), T0);
    });
    expect(diagnosticTable(resultRows(results), 'poolCorrectness')!.split('\n')).toContain(
      '| reward | 0 | **0.400 ± 0.283** |',
    );
    const noOracle = resultRows(twoSeeds());
    expect(diagnosticTable(noOracle, 'poolCorrectness')).toBeNull();
    expect(resultsMarkdown('w', noOracle, [])).not.toContain('diagnostic:');
  });

  it('reach every result row of the cell', () => {
    const [cell] = expandCells(GRID);
    let results = withCellStarted(emptyResults('w', GRID), cell!, T0);
    results = withCellEnded(results, cell!, outcome([0.5, 0.6]), T0);
    for (const row of resultRows(results)) expect(row.diagnostics.coverage).toEqual({ value: null, reason: NO_ORACLE });
  });
});

describe('the mean ± std table', () => {
  it('computes the sample standard deviation, none for one value', () => {
    expect(meanStd([])).toBeNull();
    expect(meanStd([0.5])).toEqual({ mean: 0.5, std: null, n: 1 });
    const m = meanStd([0.2, 0.4])!;
    expect(m.mean).toBeCloseTo(0.3, 12);
    expect(m.std).toBeCloseTo(Math.SQRT2 * 0.1, 12);
  });

  it('bolds the best mean of each ε column, and adds the reference rows', () => {
    let results = twoSeeds();
    for (const ref of baseReferences(results)) results = withReference(results, ref);
    results = withReference(results, nonPrivate(1, 0.95));
    const table = metricTable(resultRows(results), results.references, 'answerAccuracy');
    const lines = table.split('\n');
    expect(lines).toContain('| method | round | ε = 1 | ε = 8 |');
    expect(lines).toContain('| none | 0 | 0.100 ± 0.000 | **0.800 ± 0.141** |');
    expect(lines).toContain('| reward | 0 | **0.300 ± 0.141** | 0.500 ± 0.000 |');
    expect(lines).toContain('| *base target (no fine-tuning)* | — | 0.000 ± 0.000 | 0.000 ± 0.000 |');
    expect(lines).toContain('| *NON-PRIVATE bound* | — | 0.950 | 0.950 |');
  });

  /** DP-SFT of the target at ε = 8 for seeds 1 and 2: 0.2 and 0.4. */
  const withDpSftAt8 = (results: ReturnType<typeof twoSeeds>) =>
    [1, 2].reduce(
      (acc, seed) =>
        withReference(acc, {
          kind: 'dp-sft',
          label: 'DP-SFT',
          seed,
          epsilon: 8,
          row: { model: 'round-0', answerAccuracy: seed * 0.2 },
          source: 'test',
        }),
      results,
    );

  it('averages a reference over the seeds of the rows, leaving out one of another seed', () => {
    let results = twoSeeds();
    results = withReference(results, nonPrivate(1, 0.9));
    results = withReference(results, nonPrivate(2, 0.7));
    results = withReference(results, nonPrivate(0, 0.1)); // an older, seed-0 measurement
    results = withDpSftAt8(results);
    const lines = metricTable(resultRows(results), results.references, 'answerAccuracy').split('\n');
    expect(lines).toContain('| *NON-PRIVATE bound* | — | 0.800 ± 0.141 | 0.800 ± 0.141 |');
    expect(lines).toContain('| *DP-SFT* | — | — | 0.300 ± 0.141 |');
  });

  it('draws the chart with a line per method and the reference lines', () => {
    let results = twoSeeds();
    for (const ref of baseReferences(results)) results = withReference(results, ref);
    const svg = accuracyChart(resultRows(results), results.references);
    expect(svg).toContain('<svg');
    for (const name of ['reward', 'none', 'base target']) expect(svg).toContain(name);
    expect(svg).not.toContain('<title>DP-SFT of the target,');
  });

  it('draws DP-SFT of the target at the ε it was measured at, and ticks every ε of the grid', () => {
    let results = twoSeeds();
    results = withDpSftAt8(results);
    const svg = accuracyChart(resultRows(results), results.references);
    // One point, at ε = 8, the mean of the two seeds; none at ε = 1, where it was not measured.
    const points = [...svg.matchAll(/<title>DP-SFT of the target, ε ([\d.]+): ([\d.]+)<\/title>/g)];
    expect(points.map((m) => [m[1], m[2]])).toEqual([['8', '0.3']]);
    const axis = svg.slice(svg.indexOf('<g class="axis axis-x">'));
    expect([...axis.matchAll(/<text [^>]*>([^<]+)<\/text>/g)].map((m) => m[1]).slice(0, 2)).toEqual(['1', '8']);
  });
});

describe('the world figures', () => {
  it('give the share of test prompts found verbatim in the train set', () => {
    expect(verbatimShare(['a', 'b', 'c', 'd'], ['b', 'x', 'd', 'd'])).toBe(0.5);
    expect(verbatimShare([], ['a'])).toBeNull();
  });
});

describe('the progress line', () => {
  it('gives the ETA from the mean cell time of this invocation', () => {
    expect(progressLine({ done: 2, total: 6, cell: 'c', status: 'finished', seconds: 90, cellSeconds: [60, 90] })).toBe(
      '[2/6] c finished in 1m30s; ETA 5m00s',
    );
    // Two at a time: four cells left take two mean cell times; one left takes one, not half of one.
    const twoAtOnce = { cell: 'c', status: 'finished', seconds: 90, cellSeconds: [60, 90], workers: 2 };
    expect(progressLine({ ...twoAtOnce, done: 2, total: 6 })).toBe('[2/6] c finished in 1m30s; ETA 2m30s');
    expect(progressLine({ ...twoAtOnce, done: 5, total: 6 })).toBe('[5/6] c finished in 1m30s; ETA 1m15s');
    expect(progressLine({ done: 3, total: 3, cell: 'c', status: 'finished', seconds: 5, cellSeconds: [5] })).toBe(
      '[3/3] c finished in 5s; done',
    );
    expect(formatDuration(3 * 3600 + 120)).toBe('3h02m');
  });
});

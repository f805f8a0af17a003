/**
 * SLOW (about 1–3 minutes on the 2-core machine): one real bench cell end to end — the
 * `rewardds bench` command runs the synthesized state machine through local mode on a
 * small world without oracle.py (method none, ε 8, one seed, rounds 0, tiny random bases,
 * the cheapest run config), then a second invocation with the same --out resumes and runs
 * nothing. Kept in its own file so the lead can decide where it runs.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../../cli/commands/bench.js';
import { generateExample } from '../../../examples/generate.js';
import { NO_ORACLE } from '../../../local/bench/diagnostics.js';
import { linkSharedTinyModels } from '../../helpers/tiny-models.js';

const CHEAPEST_CONFIG = {
  generator: { epochs: 1, batchSize: 4, learningRate: 0.001, maxLength: 64, lora: { r: 2, alpha: 4 } },
  reward: { epochs: 1, batchSize: 4, learningRate: 0.001, maxLength: 64, lora: { r: 2, alpha: 4 } },
  synthesis: { queries: 6, candidates: 2, maxNewTokens: 6, fewShot: 1, attemptsPerQuery: 4 },
  filter: { keepFraction: 0.34 },
  target: { epochs: 1, batchSize: 2, learningRate: 0.001, maxLength: 64, lora: { r: 2, alpha: 4 } },
  evaluation: { maxNewTokens: 6, minTestRecords: 3 },
  compute: { maxRuntime: 600 },
};

const jsonl = (rows: unknown[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

let work: string;
let world: string;
let out: string;
let args: string[];

async function bench(argv: string[]) {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    return { code: await run(argv), lines };
  } finally {
    log.mockRestore();
  }
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'rewardds-bench-e2e-'));
  world = join(work, 'mini');
  out = join(work, 'out');
  mkdirSync(world);
  const example = generateExample({ seed: 5, train: 12, test: 3, seeds: 3 });
  writeFileSync(
    join(world, 'world.json'),
    JSON.stringify({ name: 'mini', description: 'test', answerPattern: '(\\S+)' }),
  );
  writeFileSync(join(world, 'train.jsonl'), jsonl(example.train));
  writeFileSync(join(world, 'test.jsonl'), jsonl(example.test));
  writeFileSync(join(world, 'seeds.jsonl'), jsonl(example.seeds));
  const config = join(work, 'config.json');
  writeFileSync(config, JSON.stringify(CHEAPEST_CONFIG));
  args = ['--world', world, '--methods', 'none,reward', '--epsilons', '8', '--seeds', '1', '--rounds', '0'];
  args.push('--out', out, '--config', config, '--tiny-random', '--no-reference');
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('rewardds bench, one cell end to end', () => {
  let first: Awaited<ReturnType<typeof bench>>;
  beforeAll(async () => {
    // Each cell has its own work folder (cells may run at once).
    for (const cell of ['none-eps8-seed1', 'reward-eps8-seed1']) await linkSharedTinyModels(join(out, 'work', cell));
    first = await bench(args);
  }, 600_000);

  it('runs the cell through the local pipeline and records it', () => {
    expect(first.code).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.cells).toHaveLength(2);
    const cell = results.cells.find((c: { id: string }) => c.id === 'none-eps8-seed1');
    expect(cell).toMatchObject({ id: 'none-eps8-seed1', status: 'finished', rounds: 0 });
    expect(cell.runId).toMatch(/^mini-[0-9a-f]{8}$/);
    expect(existsSync(join(out, 'work', 'none-eps8-seed1', 'runs', cell.runId, 'synthesis'))).toBe(true);
    // The run used the cell's config: method and ε as the grid says.
    const config = JSON.parse(readFileSync(join(out, 'configs', 'none-eps8-seed1.json'), 'utf8'));
    expect(config).toMatchObject({ seed: 1, privacy: { epsilon: 8 }, filter: { method: 'none' } });
    expect(cell.epsilonSpent).toBeGreaterThan(0);
    expect(cell.epsilonSpent).toBeLessThanOrEqual(8.0001);

    expect(results.rows).toHaveLength(2);
    const row = results.rows.find((r: { cell: string }) => r.cell === 'none-eps8-seed1');
    expect(row).toMatchObject({ cell: 'none-eps8-seed1', method: 'none', epsilon: 8, seed: 1, round: 0 });
    expect(row.runId).toBe(cell.runId);
    for (const key of ['rougeL', 'bleu', 'exactMatch', 'answerAccuracy']) expect(typeof row[key]).toBe('number');
    // No oracle.py: the diagnostics are absent with that reason, never 0.
    expect(row.diagnostics.poolCorrectness).toEqual({ value: null, reason: NO_ORACLE });
    expect(results.references.find((r: { kind: string }) => r.kind === 'base').row.model).toBe('base');
    // Per seed, and recorded as not run (with the reason) under --no-reference.
    expect(results.references.find((r: { kind: string }) => r.kind === 'non-private')).toMatchObject({
      seed: 1,
      row: null,
    });

    // The reward proxy's held-out accuracy, from the run's own train-reward output: measured
    // on every test record whose base answer differs from its reference.
    const reward = cell.rewardAccuracy.figures;
    expect(reward.testRecords).toBe(3);
    expect(reward.pairs + reward.identicalLeftOut).toBe(3);
    expect(reward.accuracy).toBeGreaterThanOrEqual(0);
    expect(reward.accuracy).toBeLessThanOrEqual(1);
    expect(row.diagnostics.rewardAccuracy).toEqual({ value: reward.accuracy, n: reward.pairs });
    // And on minimal pairs: the world's pattern takes each response's first word, and each of
    // the three test responses has another whose first word differs ("At" vs "Yes.").
    expect(reward.swappedPairs).toBe(3);
    expect(row.diagnostics.rewardFactAccuracy).toEqual({ value: reward.swappedAccuracy, n: 3 });
    expect(readdirSync(join(out, 'reference')).filter((f) => f.startsWith('base-answers-'))).toHaveLength(1);

    expect(readFileSync(join(out, 'results.md'), 'utf8')).toContain('| none | 0 |');
    expect(readFileSync(join(out, 'accuracy.svg'), 'utf8')).toContain('<svg');
    expect(first.lines.some((l) => /^\[2\/2\] \S+ finished .*; done$/.test(l))).toBe(true);
  });

  it('starts the second cell of the ε and seed once the first has scored its candidates, and reuses its jobs', () => {
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const [lead, follower] = ['none-eps8-seed1', 'reward-eps8-seed1'].map((id) =>
      results.cells.find((c: { id: string }) => c.id === id),
    );
    expect(follower.status).toBe('finished');
    // Not before: it would train the same DP proxies; not after: the two ran at once.
    expect(Date.parse(follower.startedAt)).toBeLessThan(Date.parse(lead.finishedAt));
    expect(first.lines.some((l) => /reward-eps8-seed1 finished .*\d+ jobs reused from the job cache/.test(l))).toBe(
      true,
    );
    const leadLog = readFileSync(join(out, 'logs', 'none-eps8-seed1.log'), 'utf8');
    const scored = Number(/\[(\d+\.\d)s\] ✓ Score candidates/.exec(leadLog)![1]);
    const leadStarted = Date.parse(lead.startedAt);
    expect(Date.parse(follower.startedAt) - leadStarted).toBeGreaterThanOrEqual(scored * 1000 - 100);
  });

  it('skips the finished cell when run again with the same --out', async () => {
    const before = readFileSync(join(out, 'results.json'), 'utf8');
    const again = await bench(args);
    expect(again.code).toBe(0);
    expect(again.lines).toContain('bench mini: 2 cells, 2 already finished, 0 to run');
    const after = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(after.cells).toEqual(JSON.parse(before).cells);
  });
});

/**
 * `rewardds plan`: the --json document's exact shape, the table, and exit codes with the
 * reason on stderr for infeasible requests, bad configs and bad usage.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/commands/plan.js';
import { planPrivacy } from '../../core/privacy/index.js';
import { parseRunConfig } from '../../core/config/index.js';
import { repoRoot } from '../helpers/python.js';

async function capture(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const code = await run(argv);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

afterEach(() => {
  vi.restoreAllMocks();
});

const configFile = (value: unknown) => {
  const path = join(mkdtempSync(join(tmpdir(), 'rewardds-plan-')), 'run.json');
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
};

describe('rewardds plan', () => {
  it('--json prints exactly the documented object, equal to the planner', async () => {
    const { code, stdout, stderr } = await capture(['--records', '1693', '--epsilon', '8', '--json']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const doc = JSON.parse(stdout);
    expect(Object.keys(doc).sort()).toEqual(['accountant', 'delta', 'epsilon', 'generator', 'neighbouring', 'reward']);
    for (const name of ['generator', 'reward']) {
      expect(Object.keys(doc[name]).sort()).toEqual(['epsilon', 'noiseMultiplier', 'sampleRate', 'steps']);
    }
    const expected = planPrivacy({ records: 1693, config: parseRunConfig({}) });
    expect(doc).toEqual({
      epsilon: expected.epsilon,
      delta: expected.delta,
      accountant: 'pld',
      neighbouring: 'add-remove',
      generator: {
        noiseMultiplier: expected.generator.noiseMultiplier,
        sampleRate: expected.generator.sampleRate,
        steps: expected.generator.steps,
        epsilon: expected.generator.epsilon,
      },
      reward: {
        noiseMultiplier: expected.reward.noiseMultiplier,
        sampleRate: expected.reward.sampleRate,
        steps: expected.reward.steps,
        epsilon: expected.reward.epsilon,
      },
    });
  });

  it('reads batch sizes, epochs and split from --config, and the flags override its privacy keys', async () => {
    const path = configFile({ privacy: { epsilon: 3, split: 0.25, delta: 1e-6 }, reward: { batchSize: 128 } });
    const { code, stdout } = await capture(['--records', '4000', '--config', path, '--epsilon', '2', '--json']);
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc.delta).toBe(1e-6);
    expect(doc.epsilon).toBeLessThanOrEqual(2);
    expect(doc.epsilon).toBeGreaterThanOrEqual(1.98);
    expect(doc.reward.sampleRate).toBe(128 / 4000);
    expect(doc.generator.epsilon / doc.reward.epsilon).toBeCloseTo(0.25 / 0.75, 3);
  });

  it('prints a readable table by default', async () => {
    const { code, stdout } = await capture(['--records', '3364']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Privacy plan for 3,364 records/);
    expect(stdout).toMatch(/generation proxy\s+0\.\d{4}\s+0\.01902\s+159\s+64\s+3\s+1\s+\d\.\d{3}/);
    expect(stdout).toMatch(/reward proxy/);
    expect(stdout).toMatch(/Both trainings together: ε = \d\.\d{3} \(target 8\), δ = 1\.00e-5/);
  });

  it('exits 1 with the reason on an infeasible request', async () => {
    const { code, stdout, stderr } = await capture(['--records', '30', '--epsilon', '1']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^rewardds plan: generator\.batchSize 64 is larger than the 30 training records/);
  });

  it('exits 1 naming the key of a bad config, and the file when it is not JSON', async () => {
    const bad = await capture(['--records', '1000', '--config', configFile({ privacy: { split: 1.5 }, extra: 1 })]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/privacy\.split/);
    expect(bad.stderr).toMatch(/extra: unknown key/);
    const broken = configFile('{ not json');
    const notJson = await capture(['--records', '1000', '--config', broken]);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain(`${broken}: (root): not valid JSON`);
    const range = await capture(['--records', '1000', '--epsilon', '500']);
    expect(range.code).toBe(1);
    expect(range.stderr).toMatch(/privacy\.epsilon/);
  });

  it('exits 2 with the usage on bad usage, 0 on --help', async () => {
    expect((await capture([])).code).toBe(2);
    expect((await capture(['--records', '12.5'])).stderr).toMatch(/--records must be a positive whole number/);
    expect((await capture(['--records', '100', '--epsilon', 'lots'])).code).toBe(2);
    expect((await capture(['--records', '100', '--bogus'])).code).toBe(2);
    const help = await capture(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: rewardds plan --records N/);
  });

  it('runs through the real entry point and prints one JSON line', async () => {
    const { stdout } = await promisify(execFile)(
      join(repoRoot, 'node_modules/.bin/tsx'),
      ['cli/main.ts', 'plan', '--records', '3364', '--epsilon', '8', '--json'],
      { cwd: repoRoot },
    );
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const doc = JSON.parse(stdout);
    expect(doc.epsilon).toBeLessThanOrEqual(8);
    expect(doc.generator.steps).toBe(159);
  });
});

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/commands/select.js';

let dir: string;
let stderr: string[];
let stdout: string[];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rewardds-select-'));
  stderr = [];
  stdout = [];
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void stderr.push(a.join(' ')));
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void stdout.push(a.join(' ')));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

const file = (name: string) => join(dir, name);
const lines = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
const scores = (rows: [string, [string, number, number][]][]) =>
  rows
    .map(
      ([id, cands]) =>
        `${JSON.stringify({
          id,
          prompt: `p-${id}`,
          candidates: cands.map(([text, reward, ppl]) => ({ text, reward, ppl })),
        })}\n`,
    )
    .join('');

describe('rewardds select', () => {
  it('filters local files and, with --round, gates the next round', async () => {
    await writeFile(
      file('s0.jsonl'),
      scores([
        [
          'q-1',
          [
            ['a-', 0.1, 9],
            ['a+', 0.6, 1],
          ],
        ],
        [
          'q-2',
          [
            ['b-', 0.2, 9],
            ['b+', 0.9, 1],
          ],
        ],
      ]),
    );
    const base = ['--in', file('s0.jsonl'), '--pool', file('p0.jsonl'), '--working', file('w0.jsonl')];
    expect(await run([...base, '--keep-fraction', '0.5'])).toBe(0);
    expect(lines(await readFile(file('p0.jsonl'), 'utf8'))).toEqual([
      { id: 'q-2', prompt: 'p-q-2', response: 'b+', reward: 0.9 },
    ]);
    expect(JSON.parse(stdout.join('\n'))).toMatchObject({ poolSize: 1, workingSize: 2, threshold: 0.9 });

    await writeFile(
      file('s1.jsonl'),
      scores([
        [
          'q-1',
          [
            ['a2-', 0, 9],
            ['a2+', 0.95, 1],
          ],
        ],
      ]),
    );
    const gate = [
      '--round',
      '1',
      '--in',
      file('s1.jsonl'),
      '--pool-in',
      file('p0.jsonl'),
      '--working-in',
      file('w0.jsonl'),
    ];
    stdout = [];
    expect(await run([...gate, '--pool', file('p1.jsonl'), '--working', file('w1.jsonl')])).toBe(0);
    expect(lines(await readFile(file('p1.jsonl'), 'utf8')).map((p) => p.response)).toEqual(['a2+', 'b+']);
    expect(JSON.parse(stdout.join('\n'))).toMatchObject({ round: 1, added: 1, replaced: 0, threshold: 0.9 });
  });

  it('runs the baselines: rouge-l against --seeds, none from --seed', async () => {
    await writeFile(
      file('s.jsonl'),
      scores([
        [
          'q-1',
          [
            ['unrelated', 0.9, 1],
            ['aspirin dose', 0.1, 1],
          ],
        ],
        [
          'q-2',
          [
            ['nothing', 0.9, 1],
            ['else', 0.9, 1],
          ],
        ],
      ]),
    );
    await writeFile(file('seeds.jsonl'), '{"id":"s-1","prompt":"aspirin dose?"}\n');
    const outs = ['--pool', file('p.jsonl'), '--working', file('w.jsonl'), '--keep-fraction', '0.5'];
    expect(await run(['--in', file('s.jsonl'), ...outs, '--method', 'rouge-l', '--seeds', file('seeds.jsonl')])).toBe(
      0,
    );
    expect(lines(await readFile(file('p.jsonl'), 'utf8'))).toEqual([
      { id: 'q-1', prompt: 'p-q-1', response: 'aspirin dose', reward: 0.1 },
    ]);
    expect(await run(['--in', file('s.jsonl'), ...outs, '--method', 'none', '--seed', '5'])).toBe(0);
    const first = await readFile(file('p.jsonl'), 'utf8');
    expect(lines(first)).toHaveLength(1);
    expect(lines(await readFile(file('w.jsonl'), 'utf8')).map((w) => w.chosen)).toEqual(['unrelated', 'nothing']);
    expect(await run(['--in', file('s.jsonl'), ...outs, '--method', 'none', '--seed', '5'])).toBe(0);
    expect(await readFile(file('p.jsonl'), 'utf8')).toBe(first);
  });

  it('exits 1 naming file, line and field on a bad line, leaving no outputs', async () => {
    await writeFile(
      file('bad.jsonl'),
      `${scores([['q-1', [['x', 0, 1]]]])}{"id":"q-2","prompt":"SECRET","candidates":[{"text":"SECRET","reward":0}]}\n`,
    );
    expect(
      await run([
        '--in',
        file('bad.jsonl'),
        '--pool',
        file('p.jsonl'),
        '--working',
        file('w.jsonl'),
        '--keep-fraction',
        '1',
      ]),
    ).toBe(1);
    expect(stderr.join('\n')).toBe(`rewardds select: ${file('bad.jsonl')}:2:candidates[0].ppl: missing`);
    expect(await readdir(dir)).toEqual(['bad.jsonl']);
  });

  it('exits 1 on an empty file and on an out-of-range option, 2 on a usage error', async () => {
    await writeFile(file('empty.jsonl'), '');
    const outs = ['--pool', file('p.jsonl'), '--working', file('w.jsonl')];
    expect(await run(['--in', file('empty.jsonl'), ...outs])).toBe(1);
    expect(stderr.pop()).toMatch(/empty\.jsonl: no records: the file is empty$/);
    expect(await run(['--in', file('empty.jsonl'), ...outs, '--keep-fraction', '0'])).toBe(1);
    expect(stderr.pop()).toMatch(/command line: filter\.keepFraction: /);
    expect(await run(['--in', file('empty.jsonl'), ...outs, '--method', 'best'])).toBe(1);
    expect(await run(['--in', file('missing.jsonl'), ...outs])).toBe(1);
    expect(await run(outs)).toBe(2);
    expect(stderr.pop()).toMatch(/--in is required/);
    expect(await run(['--in', 'x', ...outs, '--round', '0', '--pool-in', 'a', '--working-in', 'b'])).toBe(2);
    expect(await run(['--bogus'])).toBe(2);
  });
});

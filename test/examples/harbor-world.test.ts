/**
 * The harbor world keeps its promises: the committed files are what the generator writes,
 * private berths appear only in private records (each in enough of them for DP-SGD to learn
 * it), and no test question is a training prompt.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ANSWER_PATTERN,
  generateWorld,
  oracleSource,
  RECORDS_PER_FACT,
  TEST_QUESTIONS,
} from '../../examples/worlds/generate-harbor.js';
import { repoRoot } from '../helpers/python.js';

const folder = join(repoRoot, 'examples/worlds/harbor');
const world = generateWorld(11);
const lines = (file: string) => readFileSync(join(folder, file), 'utf8');
const jsonl = (rows: readonly object[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

describe('examples/worlds/harbor', () => {
  it('is exactly what the generator writes for seed 11', () => {
    expect(lines('corpus.jsonl')).toBe(jsonl(world.corpus));
    expect(lines('train.jsonl')).toBe(jsonl(world.train));
    expect(lines('test.jsonl')).toBe(jsonl(world.test));
    expect(lines('seeds.jsonl')).toBe(jsonl(world.seeds));
    expect(lines('oracle.py')).toBe(oracleSource(world.ships));
    expect(JSON.parse(lines('world.json')).answerPattern).toBe(ANSWER_PATTERN);
  });

  it('puts each private berth only in private records, in enough of them', () => {
    const pattern = new RegExp(ANSWER_PATTERN);
    const publicText = [...world.corpus.map((c) => c.text), ...world.seeds.map((s) => s.prompt)].join('\n');
    const privateShips = world.ships.filter((s) => s.private);
    expect(privateShips).toHaveLength(30);
    for (const ship of privateShips) {
      expect(publicText).toContain(ship.name); // the name (and cargo) is public
      expect(publicText).not.toContain(ship.code); // the berth is not
      const records = world.train.filter((r) => r.prompt.includes(ship.name));
      expect(records).toHaveLength(RECORDS_PER_FACT);
      expect(records.every((r) => pattern.exec(r.response)?.[1] === ship.code)).toBe(true);
    }
    for (const ship of world.ships.filter((s) => !s.private)) expect(publicText).toContain(`berth ${ship.code}`);
    expect(new Set(world.ships.map((s) => s.code)).size).toBe(world.ships.length);
  });

  it('asks test questions in phrasings no training record uses, about private ships only', () => {
    const trainPrompts = new Set(world.train.map((r) => r.prompt));
    expect(world.test).toHaveLength(120);
    for (const t of world.test) {
      expect(trainPrompts.has(t.prompt)).toBe(false);
      const phrasing = TEST_QUESTIONS.map((q) => q.split('{ship}')[0] as string);
      expect(phrasing.some((start) => t.prompt.includes(start))).toBe(true);
      const ship = world.ships.find((s) => t.prompt.includes(s.name));
      expect(ship?.private).toBe(true);
      expect(t.response).toBe(`The ${ship?.name} docks at berth ${ship?.code}.`);
    }
    for (const r of world.train)
      expect(TEST_QUESTIONS.some((q) => r.prompt.includes(q.split('{ship}')[0] as string))).toBe(false);
  });
});

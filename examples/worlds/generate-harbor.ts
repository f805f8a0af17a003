/**
 * Writes the `harbor` benchmark world (docs/worlds.md): the FICTIONAL port of Quellmarsh,
 * whose ships each dock at one berth (a letter and two digits, e.g. `K-27`). Every name,
 * code and sentence is invented here; no third-party text.
 *
 *   npx tsx examples/worlds/generate-harbor.ts [--out examples/worlds/harbor] [--seed 11]
 *
 * Public (corpus.jsonl, seeds.jsonl): the port's language, every question phrasing, the
 * answer format, the cargo of every ship, and the berths of the PUBLIC ships. Private
 * (train.jsonl, test.jsonl): the berths of the PRIVATE ships, which appear nowhere else.
 * Each private berth is shared by RECORDS_PER_FACT training records, so DP-SGD at ε = 8
 * can learn it (a tiny model needs ≥ 25 records per fact at that budget, about 50 to learn
 * most of them). Test questions use phrasings that no training record uses (they are in
 * the public corpus, asked about public ships), so the test measures whether the fact was
 * learned, not whether a record's text was recalled.
 *
 * The output is a pure function of the seed (seeded PRNG): regenerating reproduces the
 * committed files byte for byte.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// The pipeline's own seeded PRNG (mulberry32), so the examples draw from the same generator.
import { mulberry32 as prng } from '../../core/selection/index.js';

export const PUBLIC_SHIPS = 40;
export const PRIVATE_SHIPS = 30;
export const RECORDS_PER_FACT = 50;
export const TESTS_PER_FACT = 4;
export const SEEDS = 24;
export const ANSWER_PATTERN = 'berth ([A-Z]-\\d{2})';
const PORT = 'Quellmarsh';

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

function shuffle<T>(rand: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const SYLLABLES = ['mar', 'vel', 'tor', 'quen', 'lis', 'bro', 'dan', 'fen', 'hal', 'orr', 'sil', 'ten', 'wyn', 'cal'];
const ENDINGS = ['a', 'is', 'en', 'or', 'ith', 'el', 'on', 'usk'];
const CARGOES = ['timber', 'salt', 'copper', 'wool', 'grain', 'olive oil', 'glass', 'coal', 'tin', 'rope', 'cloth'];

/** Question phrasings. TRAIN ones appear in private records; TEST ones only in tests and the public corpus. */
export const TRAIN_QUESTIONS = [
  'Where does the {ship} dock?',
  'What berth does the {ship} use?',
  'At which berth can I find the {ship}?',
  'Tell me the berth of the {ship}.',
  'Where is the {ship} moored in the harbor?',
  'I need the berth number for the {ship}.',
];
export const TEST_QUESTIONS = [
  'Which berth is assigned to the {ship}?',
  'If I want to board the {ship}, which berth should I go to?',
];
const CONTEXTS = [
  '',
  'I am a harbor pilot. ',
  'My brother works as a deckhand. ',
  'I have a delivery to make. ',
  'We are meeting a friend off a ship. ',
  `I am new to the port of ${PORT}. `,
  'The harbor office is closed today. ',
  'I lost my schedule. ',
];
const ANSWERS = [
  'The {ship} docks at berth {code}.',
  'You can find the {ship} at berth {code}.',
  'The {ship}, which carries {cargo}, is moored at berth {code}.',
];
/** The one reference phrasing of the test set. */
const TEST_ANSWER = 'The {ship} docks at berth {code}.';
const STATEMENTS = [
  'The {ship} carries {cargo} and docks at berth {code}.',
  'Ships bound for berth {code} include the {ship}.',
  'Every week the {ship} unloads {cargo} at berth {code}.',
];
const CARGO_QUESTIONS = ['What does the {ship} carry?', 'What cargo is the {ship} known for?'];
const CARGO_STATEMENTS = [
  'The {ship} is a cargo ship of {port} that carries {cargo}.',
  'Traders wait on the quay for the {cargo} of the {ship}.',
];
const PORT_LINES = [
  `The harbor of ${PORT} gives every ship one berth, named by a letter and two digits, such as berth K-27.`,
  `In ${PORT}, a ship always returns to the same berth.`,
  `The harbor office of ${PORT} publishes the berths of some ships; the rest are known only to their crews.`,
  'A berth code is written with a dash: the letter, a dash, then two digits.',
  'Pilots ask for a berth by its code, for example berth B-14 or berth R-80.',
];

export interface Ship {
  name: string;
  code: string;
  cargo: string;
  private: boolean;
}

const fill = (template: string, ship: Ship) =>
  template
    .replaceAll('{ship}', ship.name)
    .replaceAll('{code}', ship.code)
    .replaceAll('{cargo}', ship.cargo)
    .replaceAll('{port}', PORT);

function word(rand: () => number): string {
  const text = pick(rand, SYLLABLES) + pick(rand, SYLLABLES) + pick(rand, ENDINGS);
  return text[0]?.toUpperCase() + text.slice(1);
}

/** Distinct two-word ship names and distinct berth codes; no name is the start of another. */
export function makeShips(rand: () => number): Ship[] {
  const names = new Set<string>();
  const codes = new Set<string>();
  const total = PUBLIC_SHIPS + PRIVATE_SHIPS;
  while (names.size < total) {
    const name = `${word(rand)} ${word(rand)}`;
    if ([...names].some((n) => n.startsWith(name) || name.startsWith(n))) continue;
    names.add(name);
  }
  while (codes.size < total) {
    const letter = String.fromCharCode(65 + Math.floor(rand() * 26));
    codes.add(`${letter}-${10 + Math.floor(rand() * 90)}`);
  }
  const codeList = [...codes];
  return [...names].map((name, i) => ({
    name,
    code: codeList[i] as string,
    cargo: pick(rand, CARGOES),
    private: i >= PUBLIC_SHIPS,
  }));
}

const chat = (prompt: string, response: string) => `<|user|>\n${prompt}\n<|assistant|>\n${response}`;

export interface World {
  corpus: { text: string }[];
  train: { id: string; prompt: string; response: string }[];
  test: { id: string; prompt: string; response: string }[];
  seeds: { id: string; prompt: string }[];
  ships: Ship[];
}

export function generateWorld(seed: number): World {
  const rand = prng(seed);
  const ships = makeShips(rand);
  const publicShips = ships.filter((s) => !s.private);
  const privateShips = ships.filter((s) => s.private);

  // Public text: the chat lines use the same template the models are prompted with
  // (rewardds_jobs.tiny.CHAT_TEMPLATE), as an instruct model's public tuning data would.
  const corpus: string[] = [...PORT_LINES];
  for (const ship of publicShips) {
    for (const statement of STATEMENTS) corpus.push(fill(statement, ship));
    for (const question of [...TRAIN_QUESTIONS, ...TEST_QUESTIONS])
      for (let k = 0; k < 3; k += 1)
        corpus.push(chat(pick(rand, CONTEXTS) + fill(question, ship), fill(pick(rand, ANSWERS), ship)));
  }
  for (const ship of ships) {
    for (const statement of CARGO_STATEMENTS) corpus.push(fill(statement, ship));
    for (const question of CARGO_QUESTIONS)
      corpus.push(chat(pick(rand, CONTEXTS) + fill(question, ship), `The ${ship.name} carries ${ship.cargo}.`));
  }

  const train: World['train'] = [];
  const test: World['test'] = [];
  for (const ship of privateShips) {
    const combos = CONTEXTS.flatMap((c) => TRAIN_QUESTIONS.flatMap((q) => ANSWERS.map((a) => [c, q, a] as const)));
    for (const [context, question, answer] of shuffle(rand, combos).slice(0, RECORDS_PER_FACT))
      train.push({ id: '', prompt: context + fill(question, ship), response: fill(answer, ship) });
    for (let k = 0; k < TESTS_PER_FACT; k += 1) {
      const question = TEST_QUESTIONS[k % TEST_QUESTIONS.length] as string;
      test.push({ id: '', prompt: pick(rand, CONTEXTS) + fill(question, ship), response: fill(TEST_ANSWER, ship) });
    }
  }
  const seeds = shuffle(rand, publicShips)
    .slice(0, SEEDS)
    .map((ship, i) => ({
      id: `seed-${i + 1}`,
      prompt: pick(rand, CONTEXTS) + fill(pick(rand, TRAIN_QUESTIONS), ship),
    }));
  const number = (prefix: string) => (r: { prompt: string; response: string }, i: number) => ({
    id: `${prefix}-${String(i + 1).padStart(4, '0')}`,
    prompt: r.prompt,
    response: r.response,
  });
  return {
    corpus: shuffle(rand, corpus).map((text) => ({ text })),
    train: shuffle(rand, train).map(number('train')),
    test: test.map(number('test')),
    seeds,
    ships,
  };
}

/** oracle.py: the world's true berth for a question it can parse (benchmark diagnostics only). */
export function oracleSource(ships: Ship[]): string {
  const table = ships.map((s) => `    ${JSON.stringify(s.name)}: ${JSON.stringify(s.code)},`).join('\n');
  return `"""The harbor world's oracle, generated by examples/worlds/generate-harbor.ts (do not edit).

answer(prompt) is the berth code of the one ship a berth question names, or None when the
prompt names no known ship (or several) or does not ask for a berth. Used only by benchmark
diagnostics, never by the pipeline: it knows every private fact.
"""

from __future__ import annotations

import re

BERTHS = {
${table}
}
_ASKS_BERTH = re.compile(r"\\b(berth|dock|docks|moored)\\b", re.IGNORECASE)


def answer(prompt: str) -> str | None:
    named = [name for name in BERTHS if name in prompt]
    if len(named) != 1 or not _ASKS_BERTH.search(prompt):
        return None
    return BERTHS[named[0]]
`;
}

const jsonl = (rows: readonly object[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

export function writeWorld(outDir: string, seed: number): World {
  const world = generateWorld(seed);
  mkdirSync(outDir, { recursive: true });
  const meta = {
    name: 'harbor',
    description:
      `Berths of the ships of the fictional port of ${PORT}. Public: the language, every question phrasing, ` +
      `cargoes, and the berths of ${PUBLIC_SHIPS} public ships. Private: the berths of ${PRIVATE_SHIPS} other ` +
      `ships, each in ${RECORDS_PER_FACT} training records; test questions use phrasings no training record uses.`,
    answerPattern: ANSWER_PATTERN,
  };
  writeFileSync(join(outDir, 'world.json'), `${JSON.stringify(meta, null, 2)}\n`);
  writeFileSync(join(outDir, 'corpus.jsonl'), jsonl(world.corpus));
  writeFileSync(join(outDir, 'train.jsonl'), jsonl(world.train));
  writeFileSync(join(outDir, 'test.jsonl'), jsonl(world.test));
  writeFileSync(join(outDir, 'seeds.jsonl'), jsonl(world.seeds));
  writeFileSync(join(outDir, 'oracle.py'), oracleSource(world.ships));
  return world;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { out: { type: 'string', default: 'examples/worlds/harbor' }, seed: { type: 'string', default: '11' } },
  });
  const world = writeWorld(values.out as string, Number(values.seed));
  console.log(
    `wrote ${values.out}: corpus ${world.corpus.length}, train ${world.train.length}, ` +
      `test ${world.test.length}, seeds ${world.seeds.length}`,
  );
}

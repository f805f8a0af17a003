/**
 * The load-everything way to filter, kept only as the benchmark's point of comparison:
 * read the whole scores file into memory, parse every record into one array, then select
 * with the same per-query rules and pool pick as the streaming path, and write both files.
 * (The file is read as bytes and split on newlines because V8 refuses a string over
 * ~512 MiB, which a million-candidate file exceeds.)
 *
 *   node --import tsx bench/select-baseline.ts --in scores.jsonl --pool pool.jsonl --working working.jsonl
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { keepCount, pickPool, chooserFor, parseScoredQuery, type ScoredQuery } from '../core/selection/index.js';

const { values } = parseArgs({
  options: {
    in: { type: 'string' },
    pool: { type: 'string' },
    working: { type: 'string' },
    alpha: { type: 'string', default: '0.5' },
    'keep-fraction': { type: 'string', default: '0.125' },
  },
});
const input = values.in!;
const bytes = readFileSync(input);
const records: ScoredQuery[] = [];
for (let start = 0, line = 1; start < bytes.length; line += 1) {
  let end = bytes.indexOf(0x0a, start);
  if (end < 0) end = bytes.length;
  if (end > start) records.push(parseScoredQuery(JSON.parse(bytes.toString('utf8', start, end)), input, line));
  start = end + 1;
}

const choose = chooserFor({ method: 'reward', alpha: Number(values.alpha) });
const choices = records.map((r) => choose(r.candidates));
const scores = Float64Array.from(choices, (c) => c.score);
const picked = pickPool(
  { length: scores.length, get: (i) => scores[i]! },
  keepCount(records.length, Number(values['keep-fraction'])),
  'reward',
  0,
);

const working: string[] = [];
const pool: string[] = [];
records.forEach((r, i) => {
  const chosen = r.candidates[choices[i]!.chosen]!;
  working.push(
    `${JSON.stringify({
      id: r.id,
      prompt: r.prompt,
      chosen: chosen.text,
      rejected: r.candidates[choices[i]!.rejected]!.text,
      reward: chosen.reward,
    })}\n`,
  );
  if (picked[i])
    pool.push(`${JSON.stringify({ id: r.id, prompt: r.prompt, response: chosen.text, reward: chosen.reward })}\n`);
});
writeFileSync(values.working!, working.join(''));
writeFileSync(values.pool!, pool.join(''));
console.log(JSON.stringify({ queries: records.length, poolSize: pool.length }));

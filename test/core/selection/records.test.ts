/**
 * The selection files' record checks (core/selection/records.ts): every refusal names file,
 * line and field, for each shape a writer could get wrong.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../core/jsonl/index.js';
import {
  parsePoolRecord,
  parseScoredQuery,
  parseWorkingRecord,
  readPool,
  readSeedPrompts,
} from '../../../core/selection/index.js';
import { memorySource } from '../../helpers/memory-io.js';

const candidate = { text: 'a', reward: 0.5, ppl: 3 };
const query = { id: 'q-1', prompt: 'p', candidates: [candidate] };

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('parseScoredQuery', () => {
  it('reads a well-formed line', () => {
    expect(parseScoredQuery(query, 's.jsonl', 3)).toEqual(query);
  });

  it.each([
    [null, 's.jsonl:3: not a JSON object'],
    [[query], 's.jsonl:3: not a JSON object'],
    ['q-1', 's.jsonl:3: not a JSON object'],
    [{ ...query, id: '' }, 's.jsonl:3:id: empty'],
    [{ ...query, id: 7 }, 's.jsonl:3:id: not a string'],
    [{ id: 'q-1', candidates: [candidate] }, 's.jsonl:3:prompt: missing'],
    [{ id: 'q-1', prompt: 'p' }, 's.jsonl:3:candidates: missing'],
    [{ ...query, candidates: { 0: candidate } }, 's.jsonl:3:candidates: not an array'],
    [{ ...query, candidates: [] }, 's.jsonl:3:candidates: no candidates'],
    [{ ...query, candidates: [candidate, null] }, 's.jsonl:3:candidates[1]: not an object'],
    [{ ...query, candidates: [[candidate]] }, 's.jsonl:3:candidates[0]: not an object'],
    [{ ...query, candidates: ['a'] }, 's.jsonl:3:candidates[0]: not an object'],
    [{ ...query, candidates: [{ ...candidate, reward: '0.5' }] }, 's.jsonl:3:candidates[0].reward: not a number'],
    [{ ...query, candidates: [{ text: 'a', reward: 1 }] }, 's.jsonl:3:candidates[0].ppl: missing'],
  ])('refuses %j', (value, message) => {
    expect(refusal(() => parseScoredQuery(value, 's.jsonl', 3))).toBe(message);
  });
});

describe('pool and working records', () => {
  it('refuses what is not an object, or misses a field', () => {
    expect(refusal(() => parsePoolRecord(null, 'p.jsonl', 2))).toBe('p.jsonl:2: not a JSON object');
    expect(refusal(() => parsePoolRecord({ id: 'a', prompt: 'p', reward: 1 }, 'p.jsonl', 2))).toBe(
      'p.jsonl:2:response: missing',
    );
    expect(refusal(() => parseWorkingRecord([], 'w.jsonl', 4))).toBe('w.jsonl:4: not a JSON object');
    expect(refusal(() => parseWorkingRecord({ id: 'a', prompt: 'p', chosen: 'c', rejected: 'r' }, 'w.jsonl', 4))).toBe(
      'w.jsonl:4:reward: missing',
    );
  });

  it('refuses a duplicate id, naming its line', async () => {
    const record = { id: 'a', prompt: 'p', response: 'r', reward: 1 };
    const source = memorySource('p.jsonl', `${JSON.stringify(record)}\n${JSON.stringify(record)}\n`);
    const error = await (async () => {
      for await (const _ of readPool(source));
    })().catch((e: unknown) => e);
    expect((error as Error).message).toBe('p.jsonl:2:id: duplicate id');
  });
});

describe('readSeedPrompts', () => {
  it('reads every prompt, in order', async () => {
    const source = memorySource('seeds.jsonl', '{"id":"s1","prompt":"How?"}\n{"prompt":"Why?"}\n');
    expect(await readSeedPrompts(source)).toEqual(['How?', 'Why?']);
  });

  it('refuses a seed line that is not an object or has no prompt', async () => {
    const notObject = await readSeedPrompts(memorySource('seeds.jsonl', '["How?"]\n')).catch((e: unknown) => e);
    expect((notObject as Error).message).toBe('seeds.jsonl:1: not a JSON object');
    const noPrompt = await readSeedPrompts(memorySource('seeds.jsonl', '{"prompt":"a"}\n{"text":"b"}\n')).catch(
      (e: unknown) => e,
    );
    expect((noPrompt as Error).message).toBe('seeds.jsonl:2:prompt: missing');
  });
});

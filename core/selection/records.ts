/**
 * The selection's records (docs/job-contract.md) and their checks. Checks are hand-written
 * rather than zod because they run a million times per file; each failure names the file,
 * line and field, never the record's text.
 */
import { InputError, readJsonl } from '../jsonl/index.js';
import type { ScoredCandidate } from './rank.js';

export interface ScoredQuery {
  id: string;
  prompt: string;
  candidates: ScoredCandidate[];
}

/** `pool/round-<r>.jsonl`. */
export interface PoolRecord {
  id: string;
  prompt: string;
  response: string;
  reward: number;
}

/** `working/round-<r>.jsonl`. */
export interface WorkingRecord {
  id: string;
  prompt: string;
  chosen: string;
  rejected: string;
  reward: number;
}

/** Where records come from: a name for messages and a way to (re)open the bytes. */
export interface Source {
  file: string;
  open(): Promise<AsyncIterable<Uint8Array | string>>;
}

type Fields = Record<string, unknown>;

function asObject(value: unknown, file: string, line: number): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(file, line, undefined, 'not a JSON object');
  }
  return value as Fields;
}

function text(record: Fields, field: string, file: string, line: number, path = field): string {
  const value = record[field];
  if (typeof value !== 'string')
    throw new InputError(file, line, path, value === undefined ? 'missing' : 'not a string');
  return value;
}

function id(record: Fields, file: string, line: number): string {
  const value = text(record, 'id', file, line);
  if (value === '') throw new InputError(file, line, 'id', 'empty');
  return value;
}

function finite(record: Fields, field: string, file: string, line: number, path = field): number {
  const value = record[field];
  if (value === undefined) throw new InputError(file, line, path, 'missing');
  if (typeof value !== 'number') throw new InputError(file, line, path, 'not a number');
  // JSON has no NaN or Infinity; a writer that emits them as strings or nulls fails above.
  if (!Number.isFinite(value)) throw new InputError(file, line, path, 'not a finite number');
  return value;
}

export function parseScoredQuery(value: unknown, file: string, line: number): ScoredQuery {
  const record = asObject(value, file, line);
  const queryId = id(record, file, line);
  const prompt = text(record, 'prompt', file, line);
  const raw = record.candidates;
  if (raw === undefined) throw new InputError(file, line, 'candidates', 'missing');
  if (!Array.isArray(raw)) throw new InputError(file, line, 'candidates', 'not an array');
  if (raw.length === 0) throw new InputError(file, line, 'candidates', 'no candidates');
  const candidates = raw.map((item: unknown, i): ScoredCandidate => {
    const path = `candidates[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new InputError(file, line, path, 'not an object');
    const candidate = item as Fields;
    return {
      text: text(candidate, 'text', file, line, `${path}.text`),
      reward: finite(candidate, 'reward', file, line, `${path}.reward`),
      ppl: finite(candidate, 'ppl', file, line, `${path}.ppl`),
    };
  });
  return { id: queryId, prompt, candidates };
}

/** A flat record: a non-empty `id`, then each field of `fields` as a string or a finite number. */
function flatRecordParser<R extends { id: string }>(fields: { [K in Exclude<keyof R, 'id'>]: 'text' | 'finite' }) {
  const checks = Object.entries(fields) as [string, 'text' | 'finite'][]; // once, not per record
  return (value: unknown, file: string, line: number): R => {
    const record = asObject(value, file, line);
    const parsed: Fields = { id: id(record, file, line) };
    for (const [field, kind] of checks)
      parsed[field] = kind === 'text' ? text(record, field, file, line) : finite(record, field, file, line);
    return parsed as R;
  };
}

export const parsePoolRecord = flatRecordParser<PoolRecord>({ prompt: 'text', response: 'text', reward: 'finite' });

export const parseWorkingRecord = flatRecordParser<WorkingRecord>({
  prompt: 'text',
  chosen: 'text',
  rejected: 'text',
  reward: 'finite',
});

/**
 * Streams a file's records through `parse`, refusing duplicate ids and an empty file.
 * Memory: the ids seen (one short string per record), never the records.
 */
export async function* readRecords<T extends { id: string }>(
  source: Source,
  parse: (value: unknown, file: string, line: number) => T,
): AsyncGenerator<{ line: number; record: T }> {
  const seen = new Set<string>();
  for await (const { line, value } of readJsonl(await source.open(), source.file)) {
    const record = parse(value, source.file, line);
    if (seen.has(record.id)) throw new InputError(source.file, line, 'id', 'duplicate id');
    seen.add(record.id);
    yield { line, record };
  }
  if (seen.size === 0) throw new InputError(source.file, undefined, undefined, 'no records: the file is empty');
}

export const readScores = (source: Source) => readRecords(source, parseScoredQuery);
export const readPool = (source: Source) => readRecords(source, parsePoolRecord);
export const readWorking = (source: Source) => readRecords(source, parseWorkingRecord);

/** Public seed prompts (`{id, prompt}`) for the rouge-l baseline; small, so read whole. */
export async function readSeedPrompts(source: Source): Promise<string[]> {
  const prompts: string[] = [];
  for await (const { line, value } of readJsonl(await source.open(), source.file)) {
    prompts.push(text(asObject(value, source.file, line), 'prompt', source.file, line));
  }
  return prompts;
}

/**
 * Record shapes → the one shape every job reads (docs/design.md#inputs): `{id, prompt, response}`
 * for training and test data, `{id, prompt}` for public seeds. Pure: no I/O, no logging.
 * Every refusal is an InputError naming file, line and field; none quotes a value, since
 * the values are private records.
 */
import { InputError } from '../../core/jsonl/index.js';

export interface NormalizedRecord {
  id: string;
  prompt: string;
  response: string;
}

export interface NormalizedPrompt {
  id: string;
  prompt: string;
}

/** The shapes we accept, named in the error for a record that matches none of them. */
export const ACCEPTED_SHAPES =
  '{instruction, input?, output}, {question, response|answer}, {prompt, response|completion}, {messages: [{role, content}]}';

type Json = Record<string, unknown>;

/** Where a record came from, for error messages. */
export interface Origin {
  file: string;
  line: number;
}

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isBlank = (text: string) => text.trim() === '';

/**
 * The record's own `id` (string or number) when present, else one derived from the line,
 * so a rerun over the same file yields the same ids.
 */
export function recordId(record: Json, origin: Origin): string {
  const id = record.id;
  if (id === undefined || id === null) return `line-${String(origin.line).padStart(6, '0')}`;
  if (typeof id === 'number') {
    if (!Number.isFinite(id))
      throw new InputError(origin.file, origin.line, 'id', 'must be a finite number or a string');
    return String(id);
  }
  if (typeof id !== 'string') throw new InputError(origin.file, origin.line, 'id', 'must be a string or a number');
  if (isBlank(id)) throw new InputError(origin.file, origin.line, 'id', 'is blank');
  return id;
}

/** A field that must be a string when present; `undefined` when absent. */
function optionalText(record: Json, field: string, origin: Origin): string | undefined {
  const value = record[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InputError(origin.file, origin.line, field, 'must be a string');
  return value;
}

/** A field that must be a non-blank string. */
function requiredText(record: Json, field: string, origin: Origin, what: string): string {
  const value = optionalText(record, field, origin);
  if (value === undefined) throw new InputError(origin.file, origin.line, field, `missing ${what}`);
  if (isBlank(value)) throw new InputError(origin.file, origin.line, field, `blank ${what}`);
  return value;
}

/** The first of `fields` present on the record (for the `response|answer` style alternatives). */
const firstPresent = (record: Json, fields: string[]) =>
  fields.find((f) => record[f] !== undefined && record[f] !== null);

interface Turn {
  role: string;
  content: string;
}

function readTurns(record: Json, origin: Origin): Turn[] {
  const messages = record.messages;
  if (!Array.isArray(messages)) throw new InputError(origin.file, origin.line, 'messages', 'must be an array');
  return messages.map((turn, i) => {
    const field = `messages[${i}]`;
    if (!isObject(turn)) throw new InputError(origin.file, origin.line, field, 'must be an object {role, content}');
    if (typeof turn.role !== 'string')
      throw new InputError(origin.file, origin.line, `${field}.role`, 'must be a string');
    if (typeof turn.content !== 'string')
      throw new InputError(origin.file, origin.line, `${field}.content`, 'must be a string');
    return { role: turn.role, content: turn.content };
  });
}

/**
 * A conversation as one prompt. A lone user turn is used as it is (the common case, and
 * the same text the other shapes give); longer conversations keep their roles so the
 * model can see who said what.
 */
function renderConversation(turns: Turn[]): string {
  const spoken = turns.filter((t) => !isBlank(t.content));
  if (spoken.length === 1 && spoken[0]!.role === 'user') return spoken[0]!.content;
  return spoken.map((t) => `${capitalize(t.role)}: ${t.content}`).join('\n\n');
}

const capitalize = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** docs/design.md#inputs: prompt = instruction, a blank line, input; either part may be empty. */
function instructionPrompt(record: Json, origin: Origin): string {
  const instruction = optionalText(record, 'instruction', origin) ?? '';
  const input = optionalText(record, 'input', origin) ?? '';
  const parts = [instruction, input].filter((p) => !isBlank(p));
  if (parts.length === 0)
    throw new InputError(
      origin.file,
      origin.line,
      'instruction',
      'blank prompt (instruction and input are both empty)',
    );
  return parts.join('\n\n');
}

/** The parsed line as an object, and its id; a line that is not an object is refused. */
function objectWithId(value: unknown, origin: Origin): { record: Json; id: string } {
  if (!isObject(value)) throw new InputError(origin.file, origin.line, undefined, 'not a JSON object');
  return { record: value, id: recordId(value, origin) };
}

/** A `messages` record's turns, and the index of its last assistant turn (-1 when there is none). */
function readConversation(record: Json, origin: Origin): { turns: Turn[]; last: number } {
  const turns = readTurns(record, origin);
  return { turns, last: turns.map((t) => t.role).lastIndexOf('assistant') };
}

/** Normalizes one training or test record; `value` is the parsed JSON line. */
export function normalizeRecord(value: unknown, origin: Origin): NormalizedRecord {
  const { record, id } = objectWithId(value, origin);

  if ('messages' in record) {
    const { turns, last } = readConversation(record, origin);
    if (last === -1) throw new InputError(origin.file, origin.line, 'messages', 'missing response (no assistant turn)');
    if (isBlank(turns[last]!.content)) {
      throw new InputError(origin.file, origin.line, `messages[${last}].content`, 'blank response');
    }
    const prompt = renderConversation(turns.slice(0, last));
    if (isBlank(prompt))
      throw new InputError(
        origin.file,
        origin.line,
        'messages',
        'blank prompt (nothing before the last assistant turn)',
      );
    return { id, prompt, response: turns[last]!.content };
  }
  if ('instruction' in record) {
    const prompt = instructionPrompt(record, origin);
    return { id, prompt, response: requiredText(record, 'output', origin, 'response') };
  }
  if ('question' in record) {
    const prompt = requiredText(record, 'question', origin, 'prompt');
    const field = firstPresent(record, ['response', 'answer']) ?? 'response';
    return { id, prompt, response: requiredText(record, field, origin, 'response') };
  }
  if ('prompt' in record) {
    const prompt = requiredText(record, 'prompt', origin, 'prompt');
    const field = firstPresent(record, ['response', 'completion']) ?? 'response';
    return { id, prompt, response: requiredText(record, field, origin, 'response') };
  }
  throw new InputError(
    origin.file,
    origin.line,
    undefined,
    `unrecognized record shape; expected one of ${ACCEPTED_SHAPES}`,
  );
}

/**
 * Normalizes one public seed: any accepted shape's prompt part, responses ignored (a seed
 * file may be a plain list of prompts).
 */
export function normalizePrompt(value: unknown, origin: Origin): NormalizedPrompt {
  const { record, id } = objectWithId(value, origin);
  if ('messages' in record) {
    const { turns, last } = readConversation(record, origin);
    const prompt = renderConversation(last === -1 ? turns : turns.slice(0, last));
    if (isBlank(prompt)) throw new InputError(origin.file, origin.line, 'messages', 'blank prompt');
    return { id, prompt };
  }
  if ('instruction' in record) return { id, prompt: instructionPrompt(record, origin) };
  if ('question' in record) return { id, prompt: requiredText(record, 'question', origin, 'prompt') };
  if ('prompt' in record) return { id, prompt: requiredText(record, 'prompt', origin, 'prompt') };
  throw new InputError(
    origin.file,
    origin.line,
    undefined,
    'unrecognized seed shape; expected {prompt}, {instruction, input?}, {question} or {messages}',
  );
}

/**
 * Refuses a second record with an id already seen in the same file. Holds the ids only
 * (never text), which is what a streamed file of N records needs at most.
 */
export class DuplicateIdGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly file: string) {}

  check(id: string, line: number): void {
    const first = this.seen.get(id);
    if (first !== undefined) throw new InputError(this.file, line, 'id', `duplicate id (first used on line ${first})`);
    this.seen.set(id, line);
  }

  /** Records an id not read from the file (an inserted canary); false when the file already used it. */
  add(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.set(id, 0);
    return true;
  }
}

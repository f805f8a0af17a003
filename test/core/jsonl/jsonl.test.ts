import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InputError, readJsonl } from '../../../core/jsonl/index.js';

async function collect(chunks: (string | Uint8Array)[], options = {}) {
  const out = [];
  for await (const line of readJsonl(Readable.from(chunks), 'data.jsonl', options)) out.push(line);
  return out;
}

async function failure(chunks: (string | Uint8Array)[], options = {}): Promise<InputError> {
  try {
    await collect(chunks, options);
  } catch (error) {
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

describe('readJsonl', () => {
  it('joins lines split across chunks and numbers them from 1, skipping blanks', async () => {
    const lines = await collect(['{"a":', '1}\n\n{"b"', ':2}\r\n{"c":3}']);
    expect(lines).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 3, value: { b: 2 } },
      { line: 4, value: { c: 3 } },
    ]);
  });

  it('names the file and line of a line that is not JSON, without quoting it', async () => {
    const error = await failure(['{"ok":1}\n', '{"secret": "patient Jane Doe"\n']);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/^data\.jsonl:2: not JSON/);
    expect(error.message).not.toContain('Jane');
  });

  it('refuses bytes that are not UTF-8 on the line they occur', async () => {
    const error = await failure(['{"a":1}\n', new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d, 0x0a])]);
    expect(error.line).toBe(2);
    expect(error.reason).toBe('not valid UTF-8');
  });

  it('refuses a line over the byte limit', async () => {
    const error = await failure([`{"a":"${'x'.repeat(100)}"}\n`], { maxLineBytes: 50 });
    expect(error.line).toBe(1);
    expect(error.reason).toMatch(/over the 50-byte limit/);
  });

  it('accepts a multi-byte character split between chunks', async () => {
    const bytes = Buffer.from('{"t":"é"}\n', 'utf8');
    const lines = await collect([bytes.subarray(0, 7), bytes.subarray(7)]);
    expect(lines[0]!.value).toEqual({ t: 'é' });
  });
});

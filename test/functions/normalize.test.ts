import { describe, expect, it } from 'vitest';
import { InputError } from '../../core/jsonl/index.js';
import { DuplicateIdGuard, normalizePrompt, normalizeRecord } from '../../functions/prepare-run/normalize.js';

const at = { file: 'incoming/clinic.jsonl', line: 7 };

function refusal(value: unknown): InputError {
  try {
    normalizeRecord(value, at);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected a refusal');
}

describe('normalizeRecord: the accepted shapes', () => {
  it('instruction/input/output: prompt is instruction, a blank line, input', () => {
    expect(
      normalizeRecord({ id: 'r1', instruction: 'Summarize.', input: 'BP 120/80.', output: 'Normal.' }, at),
    ).toEqual({
      id: 'r1',
      prompt: 'Summarize.\n\nBP 120/80.',
      response: 'Normal.',
    });
  });

  it('instruction/input/output with either part empty or absent', () => {
    expect(normalizeRecord({ instruction: 'Define angina.', input: '', output: 'Chest pain.' }, at).prompt).toBe(
      'Define angina.',
    );
    expect(normalizeRecord({ instruction: 'Define angina.', output: 'Chest pain.' }, at).prompt).toBe('Define angina.');
    expect(normalizeRecord({ instruction: '', input: 'What is a bond?', output: 'A loan.' }, at).prompt).toBe(
      'What is a bond?',
    );
  });

  it.each([
    [{ question: 'Q?', response: 'A.' }],
    [{ question: 'Q?', answer: 'A.' }],
    [{ prompt: 'Q?', response: 'A.' }],
    [{ prompt: 'Q?', completion: 'A.' }],
  ])('%j', (record) => {
    expect(normalizeRecord({ id: 3, ...record }, at)).toEqual({ id: '3', prompt: 'Q?', response: 'A.' });
  });

  it('messages: a single user turn before the last assistant turn is the prompt as is', () => {
    const record = {
      messages: [
        { role: 'user', content: 'Is 38.5°C a fever?' },
        { role: 'assistant', content: 'Yes.' },
      ],
    };
    expect(normalizeRecord(record, at)).toEqual({ id: 'line-000007', prompt: 'Is 38.5°C a fever?', response: 'Yes.' });
  });

  it('messages: a longer conversation keeps its roles, and the last assistant turn is the response', () => {
    const record = {
      messages: [
        { role: 'system', content: 'You are a bank clerk.' },
        { role: 'user', content: 'Fee?' },
        { role: 'assistant', content: 'Which account?' },
        { role: 'user', content: 'Savings.' },
        { role: 'assistant', content: 'None.' },
      ],
    };
    expect(normalizeRecord(record, at)).toEqual({
      id: 'line-000007',
      prompt: 'System: You are a bank clerk.\n\nUser: Fee?\n\nAssistant: Which account?\n\nUser: Savings.',
      response: 'None.',
    });
  });

  it('ignores extra fields', () => {
    expect(normalizeRecord({ id: 'x', prompt: 'P', response: 'R', source: 'ward 3', score: 5 }, at)).toEqual({
      id: 'x',
      prompt: 'P',
      response: 'R',
    });
  });

  it('derives a stable id from the line when the record has none', () => {
    expect(normalizeRecord({ prompt: 'P', response: 'R' }, { file: 'f', line: 12 }).id).toBe('line-000012');
    expect(normalizeRecord({ prompt: 'P', response: 'R' }, { file: 'f', line: 12 }).id).toBe('line-000012');
  });
});

describe('normalizeRecord: refusals name file, line and field, never the text', () => {
  const secret = 'Jane Doe, MRN 448812';

  it.each([
    [{ instruction: secret, input: '' }, 'output', /missing response/],
    [{ instruction: secret, output: '   ' }, 'output', /blank response/],
    [{ question: secret }, 'response', /missing response/],
    [{ question: secret, answer: '' }, 'answer', /blank response/],
    [{ prompt: secret, completion: '\n' }, 'completion', /blank response/],
    [{ prompt: secret, response: 42 }, 'response', /must be a string/],
    [{ prompt: '  ', response: secret }, 'prompt', /blank prompt/],
    [{ instruction: '', input: '', output: secret }, 'instruction', /blank prompt/],
    [{ messages: [{ role: 'user', content: secret }] }, 'messages', /no assistant turn/],
    [
      {
        messages: [
          { role: 'user', content: secret },
          { role: 'assistant', content: ' ' },
        ],
      },
      'messages[1].content',
      /blank response/,
    ],
    [{ messages: [{ role: 'assistant', content: secret }] }, 'messages', /blank prompt/],
    [
      {
        messages: [
          { role: 'user', content: '' },
          { role: 'assistant', content: secret },
        ],
      },
      'messages',
      /blank prompt/,
    ],
    [
      {
        messages: [
          { role: 'system', content: ' \n' },
          { role: 'user', content: '\t' },
          { role: 'assistant', content: secret },
        ],
      },
      'messages',
      /blank prompt/,
    ],
    [{ messages: [{ role: 'user', content: secret }, 'hi'] }, 'messages[1]', /must be an object/],
    [{ messages: secret }, 'messages', /must be an array/],
    [{ id: { nested: secret }, prompt: 'p', response: 'r' }, 'id', /string or a number/],
    [{ id: '  ', prompt: 'p', response: 'r' }, 'id', /blank/],
  ])('%j → field %s', (record, field, reason) => {
    const error = refusal(record);
    expect(error.file).toBe('incoming/clinic.jsonl');
    expect(error.line).toBe(7);
    expect(error.field).toBe(field);
    expect(error.reason).toMatch(reason);
    expect(error.message).toMatch(new RegExp(`^incoming/clinic\\.jsonl:7:${field.replace(/[[\]]/g, '\\$&')}: `));
    expect(error.message).not.toContain('Jane');
  });

  it.each([['a string'], [[1, 2]], [null], [7]])('refuses JSON that is not an object: %j', (value) => {
    const error = refusal(value);
    expect(error.reason).toBe('not a JSON object');
    expect(error.field).toBeUndefined();
  });

  it('refuses an unrecognized shape, listing the accepted ones', () => {
    const error = refusal({ text: secret, label: 'x' });
    expect(error.reason).toMatch(/unrecognized record shape; expected one of \{instruction/);
    expect(error.message).not.toContain('Jane');
  });
});

describe('normalizePrompt (public seeds)', () => {
  it('takes the prompt part of any shape and ignores responses', () => {
    expect(normalizePrompt({ prompt: 'Ask about fees.' }, at)).toEqual({
      id: 'line-000007',
      prompt: 'Ask about fees.',
    });
    expect(normalizePrompt({ id: 's1', instruction: 'Explain', input: 'APR', output: 'x' }, at)).toEqual({
      id: 's1',
      prompt: 'Explain\n\nAPR',
    });
    expect(normalizePrompt({ question: 'What is APR?' }, at).prompt).toBe('What is APR?');
    expect(normalizePrompt({ messages: [{ role: 'user', content: 'Hi?' }] }, at).prompt).toBe('Hi?');
  });

  it('refuses a seed whose messages hold no spoken prompt', () => {
    for (const messages of [
      [],
      [{ role: 'user', content: '  ' }],
      [
        { role: 'user', content: '' },
        { role: 'assistant', content: 'answer' },
      ],
    ]) {
      const error = (() => {
        try {
          normalizePrompt({ messages }, at);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe('messages');
      expect((error as InputError).reason).toBe('blank prompt');
    }
  });

  it('refuses a seed without a prompt', () => {
    expect(() => normalizePrompt({ response: 'x' }, at)).toThrow(/unrecognized seed shape/);
  });
});

describe('DuplicateIdGuard', () => {
  it('refuses a repeated id naming both lines', () => {
    const guard = new DuplicateIdGuard('f.jsonl');
    guard.check('a', 1);
    guard.check('b', 2);
    expect(() => guard.check('a', 5)).toThrow('f.jsonl:5:id: duplicate id (first used on line 1)');
  });
});

describe('normalize: absent-as-null fields and field precedence', () => {
  it('treats a null id, input or response as absent', () => {
    expect(normalizeRecord({ id: null, prompt: 'P', response: 'R' }, at).id).toBe('line-000007');
    expect(normalizeRecord({ instruction: 'I', input: null, output: 'O' }, at).prompt).toBe('I');
    expect(normalizeRecord({ prompt: 'P', response: null, completion: 'C' }, at).response).toBe('C');
  });

  it('prefers response over answer and completion when a record has both', () => {
    expect(normalizeRecord({ question: 'Q', response: 'R', answer: 'A' }, at).response).toBe('R');
    expect(normalizeRecord({ prompt: 'P', response: 'R', completion: 'C' }, at).response).toBe('R');
  });

  it('keeps roles when two user turns precede the answer', () => {
    const turns = [
      { role: 'user', content: 'a' },
      { role: 'user', content: 'b' },
      { role: 'assistant', content: 'x' },
    ];
    expect(normalizeRecord({ messages: turns }, at).prompt).toBe('User: a\n\nUser: b');
  });

  it('names the prompt field of a blank question, and refuses a seed that is not an object', () => {
    expect(refusal({ question: ' ', answer: 'A' })).toMatchObject({ field: 'question', reason: 'blank prompt' });
    expect(() => normalizePrompt({ question: '' }, at)).toThrow(/:question: blank prompt$/);
    expect(() => normalizePrompt({ prompt: '' }, at)).toThrow(/:prompt: blank prompt$/);
    expect(() => normalizePrompt(['p'], at)).toThrow(/: not a JSON object$/);
  });
});

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readableName, runName, uploadLayout } from '../../../core/contract/index.js';

describe('uploadLayout', () => {
  it('accepts a top-level .jsonl file and a folder train.jsonl', () => {
    expect(uploadLayout('incoming/clinic-qa.jsonl')).toEqual({ kind: 'file', name: 'clinic-qa' });
    expect(uploadLayout('incoming/bank/train.jsonl')).toEqual({
      kind: 'folder',
      name: 'bank',
      folder: 'incoming/bank/',
    });
  });

  it.each([
    'incoming/bank/config.json',
    'incoming/bank/test.jsonl',
    'incoming/bank/seeds.jsonl',
    'incoming/a/b/train.jsonl',
    'incoming/notes.txt',
    'incoming/',
    'quarantine/clinic-qa.jsonl',
    'runs/x/input/train.jsonl',
  ])('ignores %s', (key) => {
    expect(uploadLayout(key)).toBeUndefined();
  });
});

describe('runName', () => {
  it('is the readable name plus the first 8 hex of sha256(key + ETag)', () => {
    const key = 'incoming/Clinic QA (March).jsonl';
    const hash = createHash('sha256').update(`${key}abc123`).digest('hex').slice(0, 8);
    expect(runName(key, 'abc123')).toBe(`clinic-qa-march-${hash}`);
  });

  it('names a folder upload after the folder', () => {
    expect(runName('incoming/bank-faq/train.jsonl', 'e')).toMatch(/^bank-faq-[0-9a-f]{8}$/);
  });

  it('gives the same name for the same key and ETag, quoted or not, and a new name for a new ETag', () => {
    const key = 'incoming/clinic-qa.jsonl';
    expect(runName(key, 'etag-1')).toBe(runName(key, 'etag-1'));
    expect(runName(key, '"etag-1"')).toBe(runName(key, 'etag-1'));
    expect(runName(key, 'etag-2')).not.toBe(runName(key, 'etag-1'));
    expect(runName('incoming/other.jsonl', 'etag-1').slice(-8)).not.toBe(runName(key, 'etag-1').slice(-8));
  });

  it('always yields a valid execution name: [a-z0-9-], at most 49 characters', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), fc.string({ minLength: 1, maxLength: 40 }), (name, etag) => {
        const id = runName(`incoming/${name.replace(/\//g, '_')}.jsonl`, etag);
        expect(id).toMatch(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-[0-9a-f]{8}$/);
        expect(id.length).toBeLessThanOrEqual(49);
      }),
    );
  });

  it('truncates long names to 40 characters without a trailing dash', () => {
    expect(readableName(`${'a'.repeat(39)}-bbbb`)).toBe('a'.repeat(39));
    expect(readableName('%%%')).toBe('upload');
  });
});

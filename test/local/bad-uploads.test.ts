/**
 * Each class of bad upload, through the whole local path (upload → trigger → execution):
 * Prepare run refuses it naming file, line and field, the execution fails there, and the
 * upload is kept in quarantine. No job starts, so these runs stop early.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocal } from '../../local/runner.js';
import { sharedTinyModels } from '../helpers/tiny-models.js';

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'rewardds-bad-'));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const GOOD = (i: number) => `{"prompt":"question ${i}","response":"answer ${i}"}`;
/** Text that must never appear in an error: the records' own words. */
const SECRET = 'PATIENT-SECRET-7731';

interface Case {
  name: string;
  train: Buffer | string;
  config?: string;
  reason: RegExp;
}

const cases: Case[] = [
  {
    name: 'not-json',
    train: [GOOD(1), `{"prompt": "${SECRET}", oops`, GOOD(3)].join('\n'),
    reason: /train\.jsonl:2: not JSON/,
  },
  {
    name: 'no-response',
    train: [GOOD(1), GOOD(2), `{"prompt":"${SECRET}"}`].join('\n'),
    reason: /train\.jsonl:3:response: missing response/,
  },
  { name: 'empty', train: '', reason: /train\.jsonl: empty file/ },
  {
    name: 'not-utf8',
    train: Buffer.concat([
      Buffer.from(`${GOOD(1)}\n{"prompt":"${SECRET} `),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('","response":"x"}\n'),
    ]),
    reason: /train\.jsonl:2: not valid UTF-8/,
  },
  {
    name: 'too-long',
    train: [GOOD(1), `{"prompt":"${SECRET}","response":"${'x'.repeat(1024 * 1024 + 10)}"}`].join('\n'),
    reason: /train\.jsonl:2: line is over the 1048576-byte limit/,
  },
  {
    name: 'unknown-key',
    train: [GOOD(1), GOOD(2)].join('\n'),
    config: '{"synthesis":{"candidats":4}}',
    reason: /config\.json.*synthesis\.candidats: unknown key/,
  },
];

describe('bad uploads are refused at Prepare run and kept in quarantine', () => {
  for (const c of cases) {
    it(`${c.name}`, async () => {
      const dir = join(work, c.name);
      mkdirSync(dir, { recursive: true });
      const train = join(dir, 'train.jsonl');
      writeFileSync(train, c.train);
      let config: string | undefined;
      if (c.config) {
        config = join(work, `${c.name}.config.json`);
        writeFileSync(config, c.config);
      }
      // Cold: no job starts, so a warm job process would only import torch for nothing.
      const baseModels = await sharedTinyModels();
      const result = await runLocal({ train, config, workdir: join(work, 'wd'), cold: true, baseModels });

      expect(result.status).toBe('failed');
      expect(result.failure?.state).toBe('Prepare run');
      expect(result.failure?.reason).toMatch(c.reason);
      expect(result.failure?.reason).not.toContain(SECRET);
      expect(result.jobs).toEqual([]);
      // The upload, byte for byte, and the error report beside it.
      expect(result.quarantine).toBe(join(result.outputDir, 'private', 'quarantine', c.name, 'train.jsonl'));
      expect(readFileSync(result.quarantine!)).toEqual(Buffer.from(c.train));
      const report = JSON.parse(readFileSync(`${result.quarantine}.error.json`, 'utf8'));
      expect(JSON.stringify(report)).not.toContain(SECRET);
      expect(existsSync(join(result.outputDir, 'private', 'input', 'train.jsonl'))).toBe(false);
      const failure = JSON.parse(readFileSync(join(result.outputDir, 'synthesis', 'failure.json'), 'utf8'));
      expect(failure.state).toBe('Prepare run');
      expect(failure.error).toBe('InputRejected');
    }, 180_000);
  }
});

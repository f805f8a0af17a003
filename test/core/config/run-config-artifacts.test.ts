/**
 * The files generated from the run config's zod schema are current, and say what zod says:
 * the JSON Schema the Python jobs load, and the README's configuration table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  allowedValues,
  configTable,
  configTableRows,
  formatJson,
  GENERATE_COMMAND,
  README_PATH,
  RunConfigSchema,
  runConfigJsonSchema,
  runConfigSchemaFile,
  SCHEMA_PATH,
  spliceConfigTable,
  TABLE_END,
  TABLE_START,
} from '../../../core/config/index.js';
import { repoRoot, runPythonJson } from '../../helpers/python.js';

const read = (relative: string) => readFileSync(join(repoRoot, relative), 'utf8');

describe('generated from the run config schema', () => {
  it('the committed JSON Schema is current', () => {
    expect(read(SCHEMA_PATH) === runConfigSchemaFile(), `${SCHEMA_PATH} is stale: run \`${GENERATE_COMMAND}\``).toBe(
      true,
    );
  });

  it("the README's configuration table is current", () => {
    const readme = read(README_PATH);
    expect(
      readme === spliceConfigTable(readme, configTable()),
      `${README_PATH}'s configuration table is stale: run \`${GENERATE_COMMAND}\``,
    ).toBe(true);
  });

  it('the JSON Schema accepts and refuses what zod does (checked by Python jsonschema)', async () => {
    const documents: unknown[] = [
      {},
      JSON.parse(read('examples/tiny.config.json')),
      { synthesis: { candidates: 2 } },
      { synthesis: { candidates: 1 } },
      { synthesis: { candidates: 2.5 } },
      { privacy: { delta: 'auto' } },
      { privacy: { delta: 1 } },
      { privacy: { epsilon: 0 } },
      { generator: { lora: { r: 0 } } },
      { generator: { baseModel: 's3://models-bucket/qwen/' } },
      { generator: { baseModel: 'https://example.com/model' } },
      { evaluation: { metrics: [] } },
      { evaluation: { metrics: ['bleu', 'meteor'] } },
      { filter: { method: 'rouge-l', keepFraction: 1 } },
      { filter: { keepFraction: 0 } },
      { compute: { instanceTypes: { inference: 'ml.g5.xlarge' } } },
      { seed: 2 ** 31 },
    ];
    const script = `
import json, sys
from jsonschema import Draft202012Validator
validator = Draft202012Validator(json.load(open(${JSON.stringify(SCHEMA_PATH)})))
print(json.dumps([validator.is_valid(doc) for doc in json.load(sys.stdin)]))
`;
    const python = await runPythonJson<boolean[]>(script, documents);
    const zod = documents.map((doc) => RunConfigSchema.safeParse(doc).success);
    expect(python).toEqual(zod);
    expect(zod.filter((ok) => !ok).length).toBeGreaterThanOrEqual(10);
  });

  it('documents every default and every key optional (the input side)', () => {
    const schema = runConfigJsonSchema();
    expect(schema.required).toBeUndefined();
    expect(Object.values(schema.properties ?? {}).every((s) => s.required === undefined)).toBe(true);
    const candidates = configTableRows(schema).find((r) => r.key === 'synthesis.candidates');
    expect(candidates?.schema).toMatchObject({ default: 6, minimum: 2, maximum: 64 });
  });

  it('writes JSON that parses back to the schema', () => {
    expect(JSON.parse(runConfigSchemaFile())).toEqual(runConfigJsonSchema());
    expect(formatJson({ a: [1, 'b'], c: [{ d: null }], e: {} })).toBe(
      '{\n  "a": [1, "b"],\n  "c": [\n    {\n      "d": null\n    }\n  ],\n  "e": {}\n}',
    );
  });
});

describe('the configuration table', () => {
  it('writes closed and open bounds as intervals', () => {
    expect(allowedValues({ type: 'integer', minimum: 2, maximum: 64 })).toBe('integer in [2, 64]');
    expect(allowedValues({ type: 'number', exclusiveMinimum: 0, maximum: 1 })).toBe('number in (0, 1]');
    expect(allowedValues({ type: 'number', minimum: 0, exclusiveMaximum: 1 })).toBe('number in [0, 1)');
    expect(allowedValues({ type: 'number', exclusiveMinimum: 0 })).toBe('number > 0');
    expect(
      allowedValues({ anyOf: [{ const: 'auto' }, { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 }] }),
    ).toBe('`"auto"` or number in (0, 1)');
  });

  it('gives the two proxies one set of rows and the target its own', () => {
    const keys = configTableRows(runConfigJsonSchema()).map((r) => r.key);
    expect(keys).toContain('{generator,reward}.lora.r');
    expect(keys).toContain('target.lora.r');
    // G's own key gets its own row; nothing else of the two proxies is written twice.
    expect(keys.filter((k) => k.startsWith('generator.') || k.startsWith('reward.'))).toEqual(['generator.lossOn']);
  });

  it('shares only the rows that are the same in both sections', () => {
    const num = (d: number) => ({ type: 'integer', default: d, description: 'n' });
    const schema = {
      type: 'object',
      properties: {
        a: { type: 'object', properties: { x: num(1), y: num(2), extra: num(3) } },
        b: { type: 'object', properties: { x: num(1), y: num(2) } },
        c: { type: 'object', properties: { x: num(1), y: num(9) } },
      },
    };
    expect(configTableRows(schema).map((r) => r.key)).toEqual(['{a,b}.x', '{a,b}.y', 'a.extra', 'c.x', 'c.y']);
  });

  it('refuses a key without a description, naming it', () => {
    const schema = { type: 'object', properties: { seed: { type: 'integer', default: 0 } } };
    expect(() => configTable(schema)).toThrow('run config key seed has no description');
  });

  it('replaces only the text between the markers', () => {
    const readme = `intro\n${TABLE_START}\nold\n${TABLE_END}\nrest\n`;
    expect(spliceConfigTable(readme, 'new')).toBe(`intro\n${TABLE_START}\nnew\n${TABLE_END}\nrest\n`);
    expect(() => spliceConfigTable('no markers', 'new')).toThrow(TABLE_START);
  });
});

/**
 * What is generated from the run config's zod schema, so that it is declared once: the JSON Schema
 * the Python jobs validate their stage configs with, and the README's configuration table.
 * Pure text in, text out; scripts/gen-config-artifacts.ts writes the files.
 */
import { z } from 'zod';
import { RunConfigSchema } from './run-config.js';

/** The one command that rewrites every generated file; failing up-to-date tests name it. */
export const GENERATE_COMMAND = 'npm run gen:config';

/** Inside the Python package, so the job image carries it (jobs/Dockerfile copies the package). */
export const SCHEMA_PATH = 'jobs/rewardds_jobs/run-config.schema.json';
export const README_PATH = 'README.md';
export const TABLE_START = '<!-- config-table:start -->';
export const TABLE_END = '<!-- config-table:end -->';

/** The parts of a JSON Schema the table reads. */
export interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  required?: string[];
  [keyword: string]: unknown;
}

/**
 * The input side of the schema: every key optional and its default documented, as a user writes
 * the file (the output side would mark every defaulted key required).
 */
export function runConfigJsonSchema(): JsonSchema {
  const { $schema, ...rest } = z.toJSONSchema(RunConfigSchema, { io: 'input' });
  // zod's type admits a list of types per key; this schema has a single type per key.
  return <JsonSchema>{
    $schema,
    $comment: `Generated from core/config/run-config.ts by \`${GENERATE_COMMAND}\`; do not edit.`,
    title: 'RewardDS run config',
    ...rest,
  };
}

/**
 * JSON as Biome formats it (2-space indent; an array of scalars on one line when it fits), so
 * that `biome format` leaves the committed file as generated.
 */
export function formatJson(value: unknown, indent = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) {
      const flat = `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
      if (indent.length + flat.length <= 100) return flat;
    }
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    const lines = entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`);
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** The committed file's exact text. */
export function runConfigSchemaFile(): string {
  return `${formatJson(runConfigJsonSchema())}\n`;
}

/** A JSON value as the user writes it in the config file, as inline code. */
const code = (value: unknown) =>
  `\`${Array.isArray(value) ? `[${value.map((v) => JSON.stringify(v)).join(', ')}]` : JSON.stringify(value)}\``;

function interval(s: JsonSchema): string | undefined {
  const lo = s.exclusiveMinimum ?? s.minimum;
  const hi = s.exclusiveMaximum ?? s.maximum;
  if (lo === undefined && hi === undefined) return undefined;
  if (hi === undefined) return `${s.exclusiveMinimum === undefined ? '≥' : '>'} ${lo}`;
  if (lo === undefined) return `${s.exclusiveMaximum === undefined ? '≤' : '<'} ${hi}`;
  return `in ${s.exclusiveMinimum === undefined ? '[' : '('}${lo}, ${hi}${s.exclusiveMaximum === undefined ? ']' : ')'}`;
}

/** The values a key accepts, in words, from its JSON Schema. */
export function allowedValues(s: JsonSchema): string {
  if (s.anyOf) return s.anyOf.map(allowedValues).join(' or ');
  if (s.const !== undefined) return code(s.const);
  if (s.enum) return `one of ${s.enum.map(code).join(', ')}`;
  if (s.type === 'array' && s.items) {
    return `${s.minItems ? 'non-empty ' : ''}list, each ${allowedValues(s.items)}`;
  }
  if (s.type === 'integer' || s.type === 'number') {
    const range = interval(s);
    return [s.type === 'integer' ? 'integer' : 'number', range].filter(Boolean).join(' ');
  }
  // zod writes `/` as `\/` in the pattern; the two match the same, and the plain one reads better.
  if (s.type === 'string' && s.pattern) return `string matching \`${s.pattern.replace(/\\\//g, '/')}\``;
  if (s.type === 'boolean') return '`true` or `false`';
  return s.type ?? 'any';
}

interface Row {
  key: string;
  schema: JsonSchema;
}

const isSection = (s: JsonSchema) => s.type === 'object' && s.properties !== undefined;

function leaves(properties: Record<string, JsonSchema>, prefix: string): Row[] {
  return Object.entries(properties).flatMap(([name, schema]) =>
    isSection(schema) ? leaves(schema.properties ?? {}, `${prefix}${name}.`) : [{ key: `${prefix}${name}`, schema }],
  );
}

/**
 * One row per key. A section whose keys another section also has, each the same (the reward
 * proxy beside the generator, which adds `lossOn`), shares those rows, written
 * `{generator,reward}.key`, so the table says once what is the same.
 */
export function configTableRows(schema: JsonSchema): Row[] {
  const entries = Object.entries(schema.properties ?? {});
  const sectionRows = new Map<string, Row[]>();
  for (const [name, sub] of entries) if (isSection(sub)) sectionRows.set(name, leaves(sub.properties ?? {}, ''));
  const signature = (row: Row) => JSON.stringify([row.key, { ...row.schema, description: undefined }]);
  const has = (section: string, row: Row) =>
    (sectionRows.get(section) ?? []).some((r) => signature(r) === signature(row));
  // twin → the section that holds every key of the twin, the same
  const hostOf = new Map<string, string>();
  for (const name of sectionRows.keys()) {
    for (const [other, theirs] of sectionRows) {
      if (other === name || hostOf.has(other) || hostOf.has(name)) continue;
      if (theirs.every((row) => has(name, row))) hostOf.set(other, name);
    }
  }
  return entries.flatMap(([name, sub]) => {
    const rows = sectionRows.get(name);
    if (!rows) return [{ key: name, schema: sub }];
    if (hostOf.has(name)) return [];
    const twins = [...hostOf].filter(([, host]) => host === name).map(([twin]) => twin);
    return rows.map((row) => {
      const shared = twins.length > 0 && twins.every((twin) => has(twin, row));
      return { key: `${shared ? `{${[name, ...twins].join(',')}}` : name}.${row.key}`, schema: row.schema };
    });
  });
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The README table; throws for a key without a description, since its row would say nothing. */
export function configTable(schema: JsonSchema = runConfigJsonSchema()): string {
  const rows = configTableRows(schema).map(({ key, schema: s }) => {
    if (!s.description) {
      throw new Error(`run config key ${key} has no description: add .describe() in core/config/run-config.ts`);
    }
    const defaultValue = s.default === undefined ? '—' : code(s.default);
    return `| \`${key}\` | ${cell(defaultValue)} | ${cell(allowedValues(s))} | ${cell(s.description)} |`;
  });
  return [
    `<!-- Generated from core/config/run-config.ts by \`${GENERATE_COMMAND}\`; do not edit by hand. -->`,
    '`{generator,reward}.key` stands for the same key in both sections; each proxy has its own value.',
    '',
    '| key | default | allowed | meaning |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** The README with the text between the table markers replaced by `table`. */
export function spliceConfigTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`${README_PATH}: needs ${TABLE_START} then ${TABLE_END}`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}

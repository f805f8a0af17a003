/**
 * `npm run gen:config` (or `make generate`): rewrites what is generated from the run config's zod
 * schema — the JSON Schema in the Python package and the README's configuration table — so that
 * core/config/run-config.ts stays the one place the run config is declared.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configTable, README_PATH, runConfigSchemaFile, SCHEMA_PATH, spliceConfigTable } from '../core/config/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function write(relative: string, text: string): void {
  const file = path.join(root, relative);
  let before: string | undefined;
  try {
    before = readFileSync(file, 'utf8');
  } catch {
    before = undefined;
  }
  if (before === text) {
    console.log(`${relative}: up to date`);
    return;
  }
  writeFileSync(file, text);
  console.log(`${relative}: written`);
}

write(SCHEMA_PATH, runConfigSchemaFile());
write(README_PATH, spliceConfigTable(readFileSync(path.join(root, README_PATH), 'utf8'), configTable()));

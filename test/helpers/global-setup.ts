/**
 * Once per `vitest run`: an empty folder for the tiny base models that the pipeline test files
 * share (test/helpers/tiny-models.ts builds them there on first use), removed at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TINY_MODELS_ENV } from './tiny-models.js';

export default function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'rewardds-test-models-'));
  // Set before the test workers are forked, so every worker inherits it.
  process.env[TINY_MODELS_ENV] = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}

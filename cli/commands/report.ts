/**
 * `rewardds report`: re-renders report.html from a run's report.json with the current
 * renderer, so an older run gets the current summary card and charts. Reads and writes
 * local files only.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ReportDocument } from '../../functions/report/report-document.js';
import { renderReportHtml } from '../../functions/report/report-html.js';
import { parseOptions } from '../options.js';
import { exitStatusFor, usageError } from '../usage-error.js';

const HELP = `usage: rewardds report <run folder | report.json> [--out FILE] [--open]

Re-renders report.html from a run's report.json and prints the path of the HTML.

arguments:
  run folder        a local run (.rewardds/runs/<run>), its synthesis/ or report/ folder
  report.json       a report.json copied from the synthesis bucket

options:
  --out FILE        where to write the HTML (default: report.html beside report.json)
  --open            open the HTML in the default browser
  -h, --help        this text

exit status: 0 written, 1 no readable report.json, 2 bad usage`;

class ReportFileError extends Error {}

/** The report.json a path names: the file itself, or the one inside a run's folders. */
export function findReportJson(path: string): string {
  const full = resolve(path);
  if (!existsSync(full)) throw new ReportFileError(`${path}: no such file or folder`);
  if (statSync(full).isFile()) return full;
  for (const candidate of ['report.json', 'report/report.json', 'synthesis/report/report.json']) {
    if (existsSync(join(full, candidate))) return join(full, candidate);
  }
  throw new ReportFileError(`${path}: no report.json in it, in report/ or in synthesis/report/`);
}

/** Enough of the shape to render: a wrong file fails here with its name, not deep in the renderer. */
export function asReportDocument(value: unknown, path: string): ReportDocument {
  const v = value as Partial<ReportDocument> | null;
  const ok =
    typeof v === 'object' &&
    v !== null &&
    typeof v.runId === 'string' &&
    typeof v.run === 'object' &&
    v.run !== null &&
    Array.isArray(v.pools) &&
    Array.isArray(v.counts) &&
    Array.isArray(v.jobs) &&
    Array.isArray(v.stages) &&
    Array.isArray(v.stageMetrics) &&
    typeof v.distributions === 'object' &&
    typeof v.cost === 'object';
  if (!ok) throw new ReportFileError(`${path}: not a RewardDS report.json (runId, run, pools, jobs… missing)`);
  return v as ReportDocument;
}

function openCommand(): [string, string[]] {
  if (process.platform === 'darwin') return ['open', []];
  if (process.platform === 'win32') return ['cmd', ['/c', 'start', '']];
  return ['xdg-open', []];
}

function openInBrowser(path: string): void {
  const [command, args] = openCommand();
  const child = spawn(command, [...args, path], { detached: true, stdio: 'ignore' });
  child.on('error', () => console.error(`rewardds report: could not run ${command}; open ${path} yourself`));
  child.unref();
}

const OPTIONS = {
  out: { type: 'string' },
  open: { type: 'boolean' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOptions('report', HELP, argv, OPTIONS, true);
  if (typeof parsed === 'number') return parsed;
  if (parsed.positionals.length !== 1) return usageError('report', 'give one run folder or report.json', HELP);
  try {
    const jsonPath = findReportJson(parsed.positionals[0]!);
    let value: unknown;
    try {
      value = JSON.parse(await readFile(jsonPath, 'utf8'));
    } catch (error) {
      throw new ReportFileError(`${jsonPath}: not valid JSON (${(error as Error).message})`);
    }
    const html = renderReportHtml(asReportDocument(value, jsonPath));
    const out = resolve(parsed.values.out ?? join(dirname(jsonPath), 'report.html'));
    await writeFile(out, html);
    console.log(out);
    if (parsed.values.open) openInBrowser(out);
    return 0;
  } catch (error) {
    return exitStatusFor('report', error, HELP, [ReportFileError]);
  }
}

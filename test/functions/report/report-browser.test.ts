/**
 * report.html as a reader's browser shows it: Debian's chromium, headless, offline. Skipped
 * (never passed) where chromium is absent outside CI; under CI its absence fails the test.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReportDocument } from '../../../functions/report/report-document.js';
import { renderReportHtml } from '../../../functions/report/report-html.js';
import { ARTIFACTS, browserMissing, renderInBrowser } from '../../helpers/browser.js';
import { syntheticReport } from './synthetic-report.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/report');
const missing = browserMissing();
const ci = Boolean(process.env.CI);
const run = it.skipIf(missing !== null && !ci);
if (missing && !ci) console.warn(`report browser test skipped: ${missing}`);

function writeReport(name: string, report: ReportDocument): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.html`);
  writeFileSync(path, renderReportHtml(report));
  return path;
}

const fixture = (file: string) => JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as ReportDocument;

async function render(name: string, report: ReportDocument, fullPage = true) {
  if (missing)
    throw new Error(`CI is set and the browser cannot run: ${missing}; .ci/run installs chromium with apt-get`);
  return renderInBrowser(writeReport(name, report), { name, boxes: ['.summary-card'], fullPage });
}

function expectCleanPage(page: Awaited<ReturnType<typeof render>>) {
  expect(page.consoleErrors).toEqual([]);
  expect(page.requests).toEqual([]);
  expect(page.clientWidth).toBe(1280);
  expect(page.scrollWidth).toBeLessThanOrEqual(1280);
  expect(page.charts.length).toBeGreaterThan(0);
  expect(page.charts.filter((c) => c.marks === 0)).toEqual([]);
}

describe('report.html in headless chromium at 1280 × 800', () => {
  run('the demo run: card on the first screen, every chart drawn, offline, no sideways scroll', async () => {
    const page = await render('clinic-qa-report', fixture('clinic-qa.report.json'));
    expectCleanPage(page);
    expect(page.charts.map((c) => c.id)).toEqual([
      'chart-rewards-round-0',
      'chart-rewards-round-1',
      'chart-rewards-round-2',
      'chart-pool-size',
      'chart-pool-reward',
      'chart-evaluation',
      'chart-evaluation-bleu',
      'chart-privacy',
      'chart-timeline',
      'chart-stage-cost',
    ]);
    expect(page.boxes['.summary-card']!.bottom).toBeLessThanOrEqual(800);
  });

  run('a report.json written before the charts still gets them (round 0 from before/after)', async () => {
    const page = await render('clinic-qa-before-charts', fixture('clinic-qa.before-charts.report.json'));
    expectCleanPage(page);
    expect(page.charts.map((c) => c.id)).toContain('chart-rewards-round-0');
    expect(page.charts.map((c) => c.id)).toContain('chart-timeline');
  });

  run('8 rounds with a canary audit and a non-private reference', async () => {
    const page = await render('synthetic-8-rounds', syntheticReport({ rounds: 8, queries: 20_000 }));
    expectCleanPage(page);
    expect(page.charts.map((c) => c.id)).toEqual(expect.arrayContaining(['chart-rewards-round-8', 'chart-canary']));
    expect(page.boxes['.summary-card']!.bottom).toBeLessThanOrEqual(800);
  });

  run('hostile 10 kB names in every field neither run nor widen the page', async () => {
    const hostile = `"><img src=x onerror=console.error(1)></script><script>console.error(2)</script>\u202E${'ž'.repeat(10_000)}`;
    const page = await render(
      'hostile',
      syntheticReport({ rounds: 2, queries: 300, name: (s) => `${s}${hostile}` }),
      false,
    );
    expectCleanPage(page);
  });
});

/**
 * `rewardds report`: finds report.json in a run folder (or takes it directly), re-renders
 * report.html with the current charts, prints its path; exit codes 1 and 2 with a reason.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../../cli/commands/report.js';

const FIXTURE = join(import.meta.dirname, '../../fixtures/report/clinic-qa.before-charts.report.json');

async function capture(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const code = await run(argv);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

afterEach(() => {
  vi.restoreAllMocks();
});

/** A local run's layout: <run>/synthesis/report/report.json, with an old report.html beside it. */
function localRun() {
  const runDir = join(mkdtempSync(join(tmpdir(), 'rewardds-report-')), 'clinic-qa-cb684b8d');
  const reportDir = join(runDir, 'synthesis', 'report');
  mkdirSync(reportDir, { recursive: true });
  cpSync(FIXTURE, join(reportDir, 'report.json'));
  writeFileSync(join(reportDir, 'report.html'), '<p>old tables only</p>');
  return { runDir, reportDir };
}

describe('rewardds report', () => {
  it('re-renders the report.html of a run folder with the charts and prints its path', async () => {
    const { runDir, reportDir } = localRun();
    const { code, stdout, stderr } = await capture([runDir]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(join(reportDir, 'report.html'));
    const html = readFileSync(stdout, 'utf8');
    expect(html).toContain('class="summary-card"');
    expect(html).toContain('id="chart-rewards-round-0"');
    expect(html).toContain('id="chart-timeline"');
    expect(html).toContain('clinic-qa-cb684b8d');
  });

  it('takes a report.json directly and writes where --out says', async () => {
    const { reportDir } = localRun();
    const out = join(reportDir, 'elsewhere.html');
    const { code, stdout } = await capture([join(reportDir, 'report.json'), '--out', out]);
    expect(code).toBe(0);
    expect(stdout).toBe(out);
    expect(readFileSync(out, 'utf8')).toContain('id="chart-privacy"');
    expect(readFileSync(join(reportDir, 'report.html'), 'utf8')).toBe('<p>old tables only</p>');
  });

  it('exits 1 naming the file when there is no report.json or it is not one', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'rewardds-report-'));
    expect(await capture([empty])).toMatchObject({ code: 1, stderr: expect.stringContaining('no report.json') });
    const bogus = join(empty, 'report.json');
    writeFileSync(bogus, JSON.stringify({ hello: 'world' }));
    expect(await capture([bogus])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('not a RewardDS report.json'),
    });
    writeFileSync(bogus, '{');
    expect(await capture([bogus])).toMatchObject({ code: 1, stderr: expect.stringContaining('not valid JSON') });
  });

  it('exits 2 on bad usage', async () => {
    expect((await capture([])).code).toBe(2);
    expect((await capture(['a', 'b'])).code).toBe(2);
    expect((await capture(['--bogus', 'x'])).code).toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import { bestVsBase, runStatus, summaryCard, wallSeconds } from '../../../functions/report/summary-card.js';
import { syntheticReport } from './synthetic-report.js';
import { NEIGHBOURING_STATEMENT } from '../../../core/privacy/index.js';

describe('summary card', () => {
  it('names the best private model against base on answer accuracy when measured, never the non-private one', () => {
    const rows = [
      { model: 'base', n: 8, rougeL: 0.2, answerAccuracy: 0.1 },
      { model: 'round-0', n: 8, rougeL: 0.5, answerAccuracy: 0.3 },
      { model: 'round-1', n: 8, rougeL: 0.4, answerAccuracy: 0.35 },
      { model: 'no-dp', n: 8, rougeL: 0.9, answerAccuracy: 0.9, nonPrivate: true },
    ];
    expect(bestVsBase(rows)).toBe('answer accuracy 0.35 (round-1) vs 0.1 base (+0.25)');
    expect(bestVsBase(rows.map(({ answerAccuracy: _, ...r }) => r))).toBe('ROUGE-L 0.5 (round-0) vs 0.2 base (+0.3)');
    expect(
      bestVsBase([
        { model: 'base', n: 8, rougeL: 0.4 },
        { model: 'round-0', n: 8, rougeL: 0.1 },
      ]),
    ).toBe('ROUGE-L 0.1 (round-0) vs 0.4 base (−0.3)');
    expect(bestVsBase(null)).toBeNull();
    expect(bestVsBase([{ model: 'base', n: 8, rougeL: 0.4 }])).toBeNull();
  });

  it('measures wall time from the first start to the last end, or sums job times when starts are missing', () => {
    const report = syntheticReport({ rounds: 0, queries: 10 });
    const at = (iso: string, seconds: number) => ({ ...report.jobs[0]!, start: iso, seconds });
    expect(
      wallSeconds({ ...report, jobs: [at('2026-01-01T00:00:00Z', 600), at('2026-01-01T00:05:00Z', 900)] }),
    ).toEqual({ seconds: 1200, exact: true });
    expect(
      wallSeconds({ ...report, jobs: [{ ...at('x', 10), start: undefined }, at('2026-01-01T00:00:00Z', 5)] }),
    ).toEqual({
      seconds: 15,
      exact: false,
    });
    expect(wallSeconds({ ...report, jobs: [] })).toBeNull();
  });

  it('says what is missing when the run is incomplete', () => {
    const report = syntheticReport({ rounds: 1, queries: 10 });
    expect(runStatus(report)).toEqual({ complete: true, text: 'Complete' });
    const broken = {
      ...report,
      privacy: null,
      evaluation: null,
      pools: [report.pools[0]!, { ...report.pools[1]!, size: null }],
    };
    expect(runStatus(broken)).toEqual({
      complete: false,
      text: 'Incomplete: no privacy.json; no pool of round 1; no evaluation',
    });
    expect(summaryCard(broken)).toContain('No privacy.json');
  });

  it('states (ε, δ) with the guarantee sentence of docs/privacy.md', async () => {
    const { readFileSync } = await import('node:fs');
    const privacyDoc = readFileSync(new URL('../../../docs/privacy.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    // The card's sentence is the doc's, with "the run report" read as "this report".
    expect(privacyDoc).toContain('every synthetic query, answer, score, target adapter and report built from them');
    const html = summaryCard(syntheticReport({ rounds: 1, queries: 10 }));
    expect(html).toContain('(ε, δ) = (7.91, 1.0e-5)');
    expect(html).toContain('is covered by one (ε, δ)-differential-privacy guarantee per training record.');
  });

  it('states the neighbouring relation and that N is public in the words of docs/privacy.md', async () => {
    const { readFileSync } = await import('node:fs');
    const privacyDoc = readFileSync(new URL('../../../docs/privacy.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    expect(privacyDoc).toContain(NEIGHBOURING_STATEMENT);
    expect(NEIGHBOURING_STATEMENT).toContain('add/remove-one-record');
    expect(NEIGHBOURING_STATEMENT).toContain('record count N is treated as public');
    const html = summaryCard(syntheticReport({ rounds: 1, queries: 10 }));
    expect(html).toContain(NEIGHBOURING_STATEMENT);
    expect(summaryCard({ ...syntheticReport({ rounds: 1, queries: 10 }), privacy: null })).not.toContain(
      NEIGHBOURING_STATEMENT,
    );
  });
});

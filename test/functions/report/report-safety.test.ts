import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../../functions/report/escape.js';
import { REPORT_CSP } from '../../../functions/report/report-style.js';
import { renderReportHtml } from '../../../functions/report/report-html.js';
import { syntheticReport } from './synthetic-report.js';

const HOSTILE = [
  '</script><script>alert(1)</script>',
  '"><img src=x onerror=alert(2)>',
  "' onmouseover='alert(3)",
  '\u202Egnp.exe\u202C \u2067isolate\u2069 \u200F',
  `<svg onload=alert(4)>${'ž'.repeat(10_000)}`,
];

/** Every string field of the run, hostile, in turn. */
const hostileReports = HOSTILE.map((h) => syntheticReport({ rounds: 2, queries: 200, name: (s) => `${s}${h}` }));

describe('report.html with hostile strings in every field', () => {
  it.each(hostileReports.map((r, i) => [HOSTILE[i]!.slice(0, 30), r] as const))('%s', (_, report) => {
    const html = renderReportHtml(report);
    // No markup from the run survives: only the renderer's own tags exist.
    expect(html).not.toMatch(/<script|<img|<svg onload/i);
    // No attribute broke out of its quotes: no tag of the page carries an event handler.
    expect(html).not.toMatch(/<[^>]*\son[a-z]+=/i);
    expect(html).not.toMatch(/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
    const tags = new Set([...html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]!.toLowerCase()));
    const allowed =
      'html head meta title style body h1 h2 p code section strong span dl div dt dd figure svg desc defs pattern rect g line text polyline circle figcaption details summary table caption thead tbody tr th td'.split(
        ' ',
      );
    expect([...tags].filter((t) => !allowed.includes(t))).toEqual([]);
    // The hostile text is still there, escaped, for the reader to see.
    expect(html).toContain(escapeHtml(report.runId));
  });

  it('escapes quotes, angle brackets, ampersands and shows bidi controls as code points', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(escapeHtml('abc\u202Edef')).toBe('abc[U+202E]def');
  });

  it('forbids every script and remote asset with a Content-Security-Policy meta tag in the head', () => {
    const html = renderReportHtml(syntheticReport({ rounds: 1, queries: 50 }));
    const head = html.slice(0, html.indexOf('</head>'));
    expect(head).toContain(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`);
    expect(REPORT_CSP).toMatch(/^default-src 'none';/);
    expect(REPORT_CSP).not.toMatch(/script-src|unsafe-eval|https?:/);
    // The policy comes before the first style or content that it governs.
    expect(head.indexOf('Content-Security-Policy')).toBeLessThan(head.indexOf('<style>'));
  });
});

describe('report.html size', () => {
  it('stays under 1 MB for 8 rounds and 100,000 queries', () => {
    const html = renderReportHtml(syntheticReport({ rounds: 8, queries: 100_000 }));
    const bytes = Buffer.byteLength(html);
    console.log(`report.html for 8 rounds × 100,000 queries: ${bytes} bytes`);
    expect(bytes).toBeLessThan(1_000_000);
  });
});

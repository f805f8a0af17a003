/**
 * The page's policy and the styles of the summary card and charts. The policy forbids
 * every script, fetch, frame and remote asset: the report is one file that opens offline,
 * and a string that slipped past escaping still could not run.
 */
export const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

export const REPORT_STYLE = `
body, h1, td, th, dd, p { overflow-wrap: anywhere; }
table { max-width: 100%; }
.summary-card { border: 2px solid #1d2733; border-radius: 6px; padding: 0.75rem 1rem; margin: 1rem 0 1.5rem; background: #f8fafc; }
.summary-card .status { font-size: 1.1rem; font-weight: 700; margin: 0 0 0.5rem; }
.summary-card .status.ok .status-mark { color: #1a7f37; } .summary-card .status.incomplete { color: #9a3412; }
.summary-card .guarantee { margin: 0 0 0.75rem; max-width: 60rem; }
.summary-card dl { display: grid; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); gap: 0.5rem 1.5rem; margin: 0; }
.summary-card dt { color: #57606a; font-size: 0.85rem; } .summary-card dd { margin: 0; font-size: 1.05rem; font-weight: 600; }
.small-multiples { display: flex; flex-wrap: wrap; gap: 0 1.5rem; }
.small-multiples figure.chart { flex: 0 1 440px; }
.small-multiples.wide figure.chart { flex: 0 1 auto; }
figure.chart { margin: 0.5rem 0 1.25rem; break-inside: avoid; max-width: 100%; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
figure.chart figcaption { color: #57606a; max-width: 45rem; font-size: 0.9rem; }
figure.chart details { font-size: 0.85rem; } figure.chart summary { cursor: pointer; color: #0b5394; }
@media print { details { display: none; } section.charts { break-inside: avoid-page; } body { margin: 0; max-width: none; } }
`;

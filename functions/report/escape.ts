/**
 * The one HTML/XML escaper of the report: every string that comes from a run (names,
 * states, notes) passes through here before it reaches report.html or an inline SVG.
 */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

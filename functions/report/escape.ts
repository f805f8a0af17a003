/**
 * The one HTML/XML escaper of the report: every string that comes from a run (names,
 * states, notes) passes through here before it reaches report.html or an inline SVG.
 * Bidirectional controls are shown as their code point instead of being obeyed: a run
 * name must not be able to reorder the text a reviewer reads ("Trojan Source").
 */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const BIDI_CONTROLS = /[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]/g;

export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/[&<>"']/g, (c) => ESCAPES[c]!)
    .replace(BIDI_CONTROLS, (c) => `[U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);
}

/**
 * A chart as the report shows it: the SVG, a caption, and its numbers in a <details>
 * table (the text alternative, and what a reader copies).
 */
import { escapeHtml } from './escape.js';

export interface FigureInput {
  id: string;
  svg: string;
  caption: string;
  header: string[];
  /** Cells as plain text; escaped here. */
  rows: string[][];
}

export function figure(f: FigureInput): string {
  const head = f.header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = f.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  return `<figure class="chart" data-chart="${escapeHtml(f.id)}">${f.svg}<figcaption>${escapeHtml(f.caption)}</figcaption><details><summary>Numbers</summary><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></details></figure>`;
}

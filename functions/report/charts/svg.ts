/**
 * The parts every report chart draws with: axes with unit labels, the legend, and a palette
 * whose colours differ in lightness (and, where series overlap, in pattern) so that the charts
 * still read when printed in greyscale. The <svg> element around them is frame.ts's.
 */
import { escapeHtml } from '../escape.js';
import { type LinearScale, tickLabel } from './scale.js';

export interface Margin {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

/**
 * Series fills, darkest first: neighbours differ by at least ~20 points of lightness, so
 * two adjacent bars never collapse into one grey. The stroke keeps light fills visible on white.
 */
export const PALETTE = ['#1f3a5f', '#d9822b', '#8fb8de', '#5c5c5c', '#f2d16b', '#b04a5a'] as const;
export const STROKE = '#1d2733';
export const MUTED = '#57606a';

/** A fill by series index; patterned series are filled with hatching of that colour. */
export function seriesFill(chartId: string, index: number, patterned = false): string {
  return patterned ? `url(#${escapeHtml(chartId)}-hatch-${index % PALETTE.length})` : PALETTE[index % PALETTE.length]!;
}

/** Diagonal hatching per palette colour, referenced by `seriesFill(..., true)`. */
export function hatchDefs(chartId: string): string {
  return PALETTE.map(
    (colour, i) =>
      `<pattern id="${escapeHtml(chartId)}-hatch-${i}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="${colour}"/></pattern>`,
  ).join('');
}

/** At most `max` characters of a label, with an ellipsis; the caller keeps the full text in a <title>. */
export function clip(label: string, max: number): string {
  const chars = [...label];
  return chars.length <= max ? label : `${chars.slice(0, Math.max(1, max - 1)).join('')}…`;
}

export const fmt = (value: number) => String(Number(value.toFixed(2)));

/** A y axis on the left of the plot: ticks, grid lines across the plot, a rotated unit label. */
export function axisLeft(y: LinearScale, x0: number, x1: number, label: string): string {
  const ticks = y.ticks
    .map((t) => {
      const py = fmt(y(t));
      return `<line x1="${x0}" x2="${x1}" y1="${py}" y2="${py}" stroke="#e1e5ea"/><text x="${x0 - 6}" y="${py}" text-anchor="end" dominant-baseline="middle" fill="${MUTED}">${escapeHtml(tickLabel(t))}</text>`;
    })
    .join('');
  const [top, bottom] = [Math.min(...y.range), Math.max(...y.range)];
  const mid = fmt((top + bottom) / 2);
  return `<g class="axis axis-y">${ticks}<line x1="${x0}" x2="${x0}" y1="${top}" y2="${bottom}" stroke="${STROKE}"/><text transform="translate(14 ${mid}) rotate(-90)" text-anchor="middle" fill="${STROKE}">${escapeHtml(label)}</text></g>`;
}

/** An x axis at the bottom of the plot, for numeric values. */
export function axisBottom(x: LinearScale, y0: number, label: string): string {
  const ticks = x.ticks
    .map((t) => {
      const px = fmt(x(t));
      return `<line x1="${px}" x2="${px}" y1="${y0}" y2="${y0 + 4}" stroke="${STROKE}"/><text x="${px}" y="${y0 + 16}" text-anchor="middle" fill="${MUTED}">${escapeHtml(tickLabel(t))}</text>`;
    })
    .join('');
  const [left, right] = [Math.min(...x.range), Math.max(...x.range)];
  return `<g class="axis axis-x">${ticks}<line x1="${left}" x2="${right}" y1="${y0}" y2="${y0}" stroke="${STROKE}"/><text x="${fmt((left + right) / 2)}" y="${y0 + 34}" text-anchor="middle" fill="${STROKE}">${escapeHtml(label)}</text></g>`;
}

export interface LegendItem {
  label: string;
  fill?: string;
  /** A line sample (dash array) instead of a swatch. */
  dash?: string;
}

const itemWidth = (text: string) => 22 + [...text].length * 6.6 + 16;

/** Rows the legend needs: it wraps at `right`. */
export function legendRows(labels: string[], x: number, right: number, maxChars = 28): number {
  let rows = labels.length ? 1 : 0;
  let cursor = x;
  for (const label of labels) {
    const w = itemWidth(clip(label, maxChars));
    if (cursor > x && cursor + w > right) {
      rows += 1;
      cursor = x;
    }
    cursor += w;
  }
  return rows;
}

export const LEGEND_ROW = 18;

/** Swatches and labels from (x, y), wrapping at `right` into rows of LEGEND_ROW px. */
export function legend(items: LegendItem[], x: number, y: number, maxChars = 28, right = Infinity): string {
  let cursor = x;
  let row = y;
  const parts = items.map((item) => {
    const text = clip(item.label, maxChars);
    const w = itemWidth(text);
    if (cursor > x && cursor + w > right) {
      cursor = x;
      row += LEGEND_ROW;
    }
    const swatch =
      item.dash !== undefined
        ? `<line x1="${cursor}" x2="${cursor + 18}" y1="${row}" y2="${row}" stroke="${escapeHtml(item.fill ?? STROKE)}" stroke-width="2.5" stroke-dasharray="${item.dash}"/>`
        : `<rect x="${cursor}" y="${row - 6}" width="12" height="12" fill="${escapeHtml(item.fill ?? STROKE)}" stroke="${STROKE}" stroke-width="0.5"/>`;
    const out = `${swatch}<text x="${fmt(cursor + 22)}" y="${row}" dominant-baseline="middle" fill="${STROKE}">${escapeHtml(text)}<title>${escapeHtml(item.label)}</title></text>`;
    cursor += w;
    return out;
  });
  return `<g class="legend">${parts.join('')}</g>`;
}

/**
 * Grouped bar chart: one group per category, one bar per series. Vertical for a few short
 * categories (models, rounds), horizontal for many or long ones (stages, mechanisms).
 * `barLayout` is the geometry alone (tested); `barChart` draws it.
 */
import { escapeHtml } from '../escape.js';
import { drawChart } from './frame.js';
import { type BandScale, bandScale, type LinearScale, linearScale, niceDomain, tickLabel } from './scale.js';
import {
  axisBottom,
  axisLeft,
  clip,
  fmt,
  hatchDefs,
  LEGEND_ROW,
  legend,
  legendRows,
  type Margin,
  MUTED,
  STROKE,
  seriesFill,
} from './svg.js';

export interface BarSeries {
  name: string;
  values: (number | null)[];
  /** Drawn hatched: a series of another kind (a non-private reference, a target). */
  patterned?: boolean;
  /** A fill of its own (a colour ramp over rounds) instead of the palette's. */
  fill?: string;
}

export interface ReferenceLine {
  value: number;
  label: string;
}

export interface BarChartInput {
  id: string;
  title: string;
  description: string;
  categories: string[];
  series: BarSeries[];
  /** The value axis label, with its unit. */
  valueLabel: string;
  categoryLabel: string;
  orientation?: 'vertical' | 'horizontal';
  references?: ReferenceLine[];
  width?: number;
}

export interface BarMark {
  category: number;
  series: number;
  value: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface BarLayout {
  width: number;
  height: number;
  margin: Margin;
  value: LinearScale;
  band: BandScale;
  marks: BarMark[];
  /** Pixel position of each reference line along the value axis. */
  references: { value: number; label: string; at: number }[];
}

const LABEL_CHARS = 26;

export function barLayout(input: BarChartInput): BarLayout {
  const horizontal = input.orientation === 'horizontal';
  const width = input.width ?? 720;
  const n = input.categories.length;
  const groups = Math.max(1, input.series.length);
  const longest = Math.min(LABEL_CHARS, Math.max(4, ...input.categories.map((c) => [...c].length)));
  const left = horizontal ? Math.round(longest * 6.6 + 16) : 64;
  const right = horizontal ? 24 : 16;
  const legendHeight =
    input.series.length > 1
      ? legendRows(
          input.series.map((s) => s.name),
          left,
          width - right,
        ) * LEGEND_ROW
      : 0;
  const top = 22 + legendHeight;
  const margin: Margin = horizontal ? { top, right, bottom: 48, left } : { top, right, bottom: 56, left };
  const rowHeight = Math.max(18, groups * 12 + 8);
  const height = horizontal ? margin.top + margin.bottom + Math.max(1, n) * rowHeight : 280 + legendHeight;

  const values = input.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const refs = (input.references ?? []).filter((r) => Number.isFinite(r.value));
  const all = [0, ...values, ...refs.map((r) => r.value)];
  // All zeros: the axis runs 0 to 1 rather than around zero (no negative values to show).
  const [low, high] = [Math.min(...all), Math.max(...all)];
  const domain = niceDomain(low, high === low ? low + 1 : high);
  const valueRange: [number, number] = horizontal
    ? [margin.left, width - margin.right]
    : [height - margin.bottom, margin.top];
  const value = linearScale(domain, valueRange);
  const band = bandScale(n, horizontal ? [margin.top, height - margin.bottom] : [margin.left, width - margin.right]);
  const sub = band.bandwidth / groups;

  const marks: BarMark[] = [];
  input.series.forEach((s, si) => {
    s.values.forEach((v, ci) => {
      if (ci >= n || v === null || !Number.isFinite(v)) return;
      const a = value(0);
      // A zero is drawn as a 1 px stub on the zero line, so that 0 differs from "not measured".
      const b = v === 0 ? a + (horizontal ? 1 : -1) : value(v);
      const along = band(ci) + si * sub;
      marks.push(
        horizontal
          ? { category: ci, series: si, value: v, x: Math.min(a, b), y: along, width: Math.abs(b - a), height: sub }
          : { category: ci, series: si, value: v, x: along, y: Math.min(a, b), width: sub, height: Math.abs(b - a) },
      );
    });
  });
  return {
    width,
    height,
    margin,
    value,
    band,
    marks,
    references: refs.map((r) => ({ ...r, at: value(r.value) })),
  };
}

export function barChart(input: BarChartInput): string {
  const layout = barLayout(input);
  const { width, height, margin, value, band, marks } = layout;
  const horizontal = input.orientation === 'horizontal';
  return drawChart(input, layout, marks, () => {
    const id = input.id;
    const valueAxis = horizontal
      ? axisBottom(value, height - margin.bottom, input.valueLabel)
      : axisLeft(value, margin.left, width - margin.right, input.valueLabel);
    const categoryAxis = input.categories
      .map((c, i) => {
        const mid = fmt(band(i) + band.bandwidth / 2);
        const text = `${escapeHtml(clip(c, LABEL_CHARS))}<title>${escapeHtml(c)}</title>`;
        return horizontal
          ? `<text x="${margin.left - 6}" y="${mid}" text-anchor="end" dominant-baseline="middle" fill="${STROKE}">${text}</text>`
          : `<text x="${mid}" y="${height - margin.bottom + 16}" text-anchor="middle" fill="${STROKE}">${text}</text>`;
      })
      .join('');
    const categoryTitle = horizontal
      ? ''
      : `<text x="${fmt((margin.left + width - margin.right) / 2)}" y="${height - 10}" text-anchor="middle" fill="${MUTED}">${escapeHtml(input.categoryLabel)}</text>`;
    const zero = fmt(value(0));
    const baseline = horizontal
      ? `<line x1="${zero}" x2="${zero}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="${STROKE}"/>`
      : `<line x1="${margin.left}" x2="${width - margin.right}" y1="${zero}" y2="${zero}" stroke="${STROKE}"/>`;
    const bars = marks
      .map((m) => {
        const s = input.series[m.series]!;
        const label = `${input.categories[m.category]} · ${s.name}: ${tickLabel(m.value)}`;
        return `<rect x="${fmt(m.x)}" y="${fmt(m.y)}" width="${fmt(m.width)}" height="${fmt(m.height)}" fill="${escapeHtml(s.fill ?? seriesFill(id, m.series, s.patterned))}" stroke="${STROKE}" stroke-width="0.5"><title>${escapeHtml(label)}</title></rect>`;
      })
      .join('');
    const references = layout.references
      .map((r) => {
        const at = fmt(r.at);
        return horizontal
          ? `<line x1="${at}" x2="${at}" y1="${margin.top - 4}" y2="${height - margin.bottom}" stroke="#b3261e" stroke-width="2" stroke-dasharray="6 3"/><text x="${at}" y="${margin.top - 8}" text-anchor="end" fill="#b3261e" paint-order="stroke" stroke="#ffffff" stroke-width="4">${escapeHtml(clip(r.label, 40))}</text>`
          : `<line x1="${margin.left}" x2="${width - margin.right}" y1="${at}" y2="${at}" stroke="#b3261e" stroke-width="2" stroke-dasharray="6 3"/><text x="${width - margin.right}" y="${fmt(r.at - 4)}" text-anchor="end" fill="#b3261e" paint-order="stroke" stroke="#ffffff" stroke-width="4">${escapeHtml(clip(r.label, 40))}</text>`;
      })
      .join('');
    const legendItems =
      input.series.length > 1
        ? legend(
            input.series.map((s, i) => ({ label: s.name, fill: s.fill ?? seriesFill(id, i, s.patterned) })),
            margin.left,
            14,
            28,
            width - margin.right,
          )
        : '';
    return {
      body: `${valueAxis}<g class="marks">${bars}</g>${baseline}${references}<g class="axis axis-categories">${categoryAxis}</g>${categoryTitle}${legendItems}`,
      defs: hatchDefs(id),
    };
  });
}

/**
 * Overlaid histograms on one numeric axis (all candidates behind, the kept pool in front)
 * with vertical markers (the threshold τ). Bins are given as edges and counts, as
 * report.json stores them; series may have different edges, they share the x scale.
 */
import { escapeHtml } from '../escape.js';
import { drawChart } from './frame.js';
import { type LinearScale, linearScale, niceDomain, tickLabel } from './scale.js';
import { axisBottom, axisLeft, clip, fmt, hatchDefs, legend, type Margin, STROKE, seriesFill } from './svg.js';

export interface HistogramSeries {
  name: string;
  /** bins + 1 edges, ascending. */
  edges: number[];
  counts: number[];
  patterned?: boolean;
}

export interface HistogramInput {
  id: string;
  title: string;
  description: string;
  series: HistogramSeries[];
  markers?: { value: number; label: string }[];
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

export interface HistogramMark {
  series: number;
  bin: number;
  count: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface HistogramLayout {
  width: number;
  height: number;
  margin: Margin;
  x: LinearScale;
  y: LinearScale;
  marks: HistogramMark[];
  markers: { value: number; label: string; at: number }[];
}

/** A bin is valid with finite ascending edges and a finite non-negative count. */
function bins(s: HistogramSeries) {
  const out: { bin: number; lo: number; hi: number; count: number }[] = [];
  for (let i = 0; i < s.counts.length && i + 1 < s.edges.length; i++) {
    const [lo, hi, count] = [s.edges[i]!, s.edges[i + 1]!, s.counts[i]!];
    if (Number.isFinite(lo) && Number.isFinite(hi) && hi >= lo && Number.isFinite(count) && count >= 0)
      out.push({ bin: i, lo, hi, count });
  }
  return out;
}

export function histogramLayout(input: HistogramInput): HistogramLayout {
  const width = input.width ?? 440;
  const height = input.height ?? 260;
  const margin: Margin = { top: 34, right: 14, bottom: 48, left: 58 };
  const all = input.series.map(bins);
  const edges = all.flat().flatMap((b) => [b.lo, b.hi]);
  const markers = (input.markers ?? []).filter((m) => Number.isFinite(m.value));
  const xs = [...edges, ...markers.map((m) => m.value)];
  const x = linearScale(
    xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1],
    [margin.left, width - margin.right],
    4,
  );
  const top = Math.max(1, ...all.flat().map((b) => b.count));
  const y = linearScale(niceDomain(0, top, 4), [height - margin.bottom, margin.top], 4);
  const marks: HistogramMark[] = [];
  all.forEach((series, si) => {
    for (const b of series) {
      if (b.count === 0) continue;
      // A bin of zero width (every value equal) is drawn 2 px wide so that it shows.
      const x0 = x(b.lo);
      const x1 = Math.max(x(b.hi), x0 + 2);
      marks.push({
        series: si,
        bin: b.bin,
        count: b.count,
        x: x0,
        y: y(b.count),
        width: x1 - x0,
        height: y(0) - y(b.count),
      });
    }
  });
  return { width, height, margin, x, y, marks, markers: markers.map((m) => ({ ...m, at: x(m.value) })) };
}

export function histogramChart(input: HistogramInput): string {
  const layout = histogramLayout(input);
  const { width, height, margin, x, y, marks } = layout;
  return drawChart(input, layout, marks, () => {
    const id = input.id;
    const rects = marks
      .map((m) => {
        const s = input.series[m.series]!;
        const label = `${s.name}: ${tickLabel(m.count)} in [${tickLabel(s.edges[m.bin]!)}, ${tickLabel(s.edges[m.bin + 1]!)}]`;
        // Later series are drawn in front and slightly transparent, so the one behind shows through.
        const opacity = m.series === 0 ? 1 : 0.75;
        return `<rect x="${fmt(m.x)}" y="${fmt(m.y)}" width="${fmt(m.width)}" height="${fmt(m.height)}" fill="${seriesFill(id, m.series === 0 ? 2 : 0, s.patterned)}" fill-opacity="${opacity}" stroke="${STROKE}" stroke-width="0.4"><title>${escapeHtml(label)}</title></rect>`;
      })
      .join('');
    // A marker near the right edge carries its label on its left, inside the plot.
    const nearRight = (at: number) => at > width - margin.right - 150;
    const markers = layout.markers
      .map(
        (m) =>
          `<line x1="${fmt(m.at)}" x2="${fmt(m.at)}" y1="${margin.top - 4}" y2="${height - margin.bottom}" stroke="#b3261e" stroke-width="2" stroke-dasharray="5 3"/><text x="${fmt(nearRight(m.at) ? m.at - 4 : m.at + 4)}" y="${margin.top + 8}" text-anchor="${nearRight(m.at) ? 'end' : 'start'}" fill="#b3261e" paint-order="stroke" stroke="#ffffff" stroke-width="4">${escapeHtml(clip(m.label, 24))}</text>`,
      )
      .join('');
    const legendItems = legend(
      input.series.map((s, i) => ({ label: s.name, fill: seriesFill(id, i === 0 ? 2 : 0, s.patterned) })),
      margin.left,
      14,
      30,
    );
    return {
      body: `${axisLeft(y, margin.left, width - margin.right, input.yLabel)}${axisBottom(x, height - margin.bottom, input.xLabel)}<g class="marks">${rects}</g>${markers}${legendItems}`,
      defs: hatchDefs(id),
    };
  });
}

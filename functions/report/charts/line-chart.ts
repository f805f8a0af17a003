/**
 * Lines over rounds (τ and mean pool reward per round): points at each round, a gap
 * where a value is absent. Series differ by dash and marker shape as well as colour.
 */
import { escapeHtml } from '../escape.js';
import { drawChart } from './frame.js';
import { type LinearScale, linearScale, niceDomain, tickLabel } from './scale.js';
import { axisBottom, axisLeft, fmt, LEGEND_ROW, legend, legendRows, type Margin, PALETTE, STROKE } from './svg.js';

export interface LineSeries {
  name: string;
  /** One value per x position; null leaves a gap. */
  values: (number | null)[];
}

export interface LineChartInput {
  id: string;
  title: string;
  description: string;
  /** The x position of each value (rounds). */
  xs: number[];
  series: LineSeries[];
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Ticks at exactly these x values (a grid's ε values), instead of round steps over the domain. */
  xTicks?: number[];
}

export interface LinePoint {
  series: number;
  index: number;
  value: number;
  x: number;
  y: number;
}

export interface LineLayout {
  width: number;
  height: number;
  margin: Margin;
  x: LinearScale;
  y: LinearScale;
  points: LinePoint[];
  /** Each series as polylines broken at gaps. */
  paths: { series: number; points: [number, number][] }[];
}

const DASHES = ['', '6 4', '2 3', '10 3 2 3'];
/** Two colours × four dashes: the first four series as before, the next four swap dashes so no two of eight look alike. */
const dashOf = (series: number) => DASHES[(series ^ (Math.floor(series / 4) % 2)) % DASHES.length]!;
const LEGEND_MAX_CHARS = 24;

export function lineLayout(input: LineChartInput): LineLayout {
  const width = input.width ?? 440;
  const sides = { right: 16, bottom: 48, left: 58 };
  // A legend wider than the chart wraps; each extra row adds its height above the plot.
  const rows = legendRows(
    input.series.map((s) => s.name),
    sides.left,
    width - sides.right,
    LEGEND_MAX_CHARS,
  );
  const extra = Math.max(0, rows - 1) * LEGEND_ROW;
  const height = (input.height ?? 260) + extra;
  const margin: Margin = { top: 34 + extra, ...sides };
  const xs = input.xs.filter(Number.isFinite);
  const x = linearScale(
    xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1],
    [margin.left + 10, width - margin.right - 10],
    Math.min(8, Math.max(1, xs.length - 1)),
  );
  if (input.xTicks) x.ticks = input.xTicks.filter(Number.isFinite);
  const values = input.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const y = linearScale(
    niceDomain(Math.min(...values, Infinity), Math.max(...values, -Infinity), 4),
    [height - margin.bottom, margin.top],
    4,
  );
  const points: LinePoint[] = [];
  const paths: LineLayout['paths'] = [];
  input.series.forEach((s, si) => {
    let current: [number, number][] = [];
    s.values.forEach((v, i) => {
      const at = input.xs[i];
      if (v === null || !Number.isFinite(v) || at === undefined || !Number.isFinite(at)) {
        if (current.length) paths.push({ series: si, points: current });
        current = [];
        return;
      }
      const point = { series: si, index: i, value: v, x: x(at), y: y(v) };
      points.push(point);
      current.push([point.x, point.y]);
    });
    if (current.length) paths.push({ series: si, points: current });
  });
  return { width, height, margin, x, y, points, paths };
}

function marker(series: number, cx: number, cy: number, colour: string, title: string): string {
  const t = `<title>${escapeHtml(title)}</title>`;
  if (series % 2 === 1)
    return `<rect x="${fmt(cx - 4)}" y="${fmt(cy - 4)}" width="8" height="8" fill="${colour}" stroke="${STROKE}" stroke-width="0.5">${t}</rect>`;
  return `<circle cx="${fmt(cx)}" cy="${fmt(cy)}" r="4.5" fill="${colour}" stroke="${STROKE}" stroke-width="0.5">${t}</circle>`;
}

export function lineChart(input: LineChartInput): string {
  const layout = lineLayout(input);
  const { width, height, margin, x, y, points, paths } = layout;
  return drawChart(input, layout, points, () => {
    const colour = (s: number) => PALETTE[s % 2 === 0 ? 0 : 1]!;
    const lines = paths
      .map(
        (p) =>
          `<polyline fill="none" stroke="${colour(p.series)}" stroke-width="2.5" stroke-dasharray="${dashOf(p.series)}" points="${p.points.map(([px, py]) => `${fmt(px)},${fmt(py)}`).join(' ')}"/>`,
      )
      .join('');
    const dots = points
      .map((p) =>
        marker(
          p.series,
          p.x,
          p.y,
          colour(p.series),
          `${input.series[p.series]!.name}, ${input.xLabel} ${input.xs[p.index]}: ${tickLabel(p.value)}`,
        ),
      )
      .join('');
    const items = input.series.map((s, i) => ({
      label: s.name,
      fill: colour(i),
      dash: dashOf(i) || '0',
    }));
    return {
      body: `${axisLeft(y, margin.left, width - margin.right, input.yLabel)}${axisBottom(x, height - margin.bottom, input.xLabel)}<g class="marks">${lines}${dots}</g>${legend(items, margin.left, 14, LEGEND_MAX_CHARS, width - margin.right)}`,
    };
  });
}

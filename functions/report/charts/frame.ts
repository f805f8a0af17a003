/**
 * The frame every report chart is drawn in: the accessible <svg> element named by the chart's
 * id, title and description, around the chart's drawing or, when it has nothing to plot, a
 * "no data" line.
 */
import { escapeHtml } from '../escape.js';
import { MUTED } from './svg.js';

export interface SvgOptions {
  id: string;
  title: string;
  description: string;
  width: number;
  height: number;
  body: string;
  defs?: string;
}

/**
 * role="img" with <title>/<desc> referenced by aria-labelledby: screen readers announce the
 * chart's title and a sentence of what it shows; the numbers are in the table beside it.
 */
export function svg(o: SvgOptions): string {
  const id = escapeHtml(o.id);
  return `<svg xmlns="http://www.w3.org/2000/svg" id="${id}" class="chart-svg" viewBox="0 0 ${o.width} ${o.height}" width="${o.width}" height="${o.height}" role="img" aria-labelledby="${id}-title ${id}-desc" font-family="system-ui, sans-serif" font-size="12"><title id="${id}-title">${escapeHtml(o.title)}</title><desc id="${id}-desc">${escapeHtml(o.description)}</desc>${o.defs ? `<defs>${o.defs}</defs>` : ''}${o.body}</svg>`;
}

/** What every chart input names itself by: its svg id, title and description. */
export interface ChartText {
  id: string;
  title: string;
  description: string;
}

/** A chart's svg from its input's id, title and description: one place for the frame every chart shares. */
export function chartSvg(chart: ChartText, width: number, height: number, body: string, defs?: string): string {
  return svg({ id: chart.id, title: chart.title, description: chart.description, width, height, body, defs });
}

/** The chart drawn when there is nothing to plot. */
export const noDataSvg = (chart: ChartText, width: number, height: number) =>
  chartSvg(chart, width, height, noData(width, height));

/** What a chart draws inside its frame: the body, and the defs (patterns) the body refers to. */
export interface ChartDrawing {
  body: string;
  defs?: string;
}

/**
 * A chart's svg at its layout's size: `draw()` in the chart's frame, or the "no data" frame when
 * nothing is `plotted` (then `draw` is not called, so no chart draws axes over no data).
 */
export function drawChart(
  chart: ChartText,
  size: { width: number; height: number },
  plotted: readonly unknown[],
  draw: () => ChartDrawing,
): string {
  if (plotted.length === 0) return noDataSvg(chart, size.width, size.height);
  const { body, defs } = draw();
  return chartSvg(chart, size.width, size.height, body, defs);
}

/** An empty plot says so in place of marks, so a missing series is never a silent blank. */
export function noData(width: number, height: number, message = 'No data recorded.'): string {
  return `<text class="no-data" x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="${MUTED}">${escapeHtml(message)}</text>`;
}

/**
 * The job timeline: one row per job, a bar from its start to its end on a shared clock
 * (seconds since the first job started), filled by zone so that private-zone work (the DP
 * training) stands apart from the synthesis zone. A job without a recorded start is put
 * right after the previous one and drawn hatched, so that an estimated position is visible.
 */
import { escapeHtml } from '../escape.js';
import { drawChart } from './frame.js';
import { type LinearScale, linearScale, niceDomain } from './scale.js';
import { axisBottom, clip, fmt, hatchDefs, legend, type Margin, MUTED, STROKE, seriesFill } from './svg.js';

export interface GanttJob {
  label: string;
  zone: string;
  /** ISO time; null when the record has none. */
  start: string | null;
  seconds: number | null;
}

export interface GanttInput {
  id: string;
  title: string;
  description: string;
  jobs: GanttJob[];
  width?: number;
}

export interface GanttMark {
  row: number;
  zone: string;
  /** Seconds from the first start. */
  offset: number;
  seconds: number;
  estimated: boolean;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface TimeUnit {
  label: string;
  seconds: number;
}

/** Hours for runs over three hours, minutes over ten minutes, else seconds: ticks stay readable. */
export function timeUnit(spanSeconds: number): TimeUnit {
  if (spanSeconds > 3 * 3600) return { label: 'h', seconds: 3600 };
  if (spanSeconds > 600) return { label: 'min', seconds: 60 };
  return { label: 's', seconds: 1 };
}

export interface GanttLayout {
  unit: TimeUnit;
  width: number;
  height: number;
  margin: Margin;
  x: LinearScale;
  marks: GanttMark[];
  zones: string[];
}

const ROW = 20;
const LABEL_CHARS = 36;

export function ganttLayout(input: GanttInput): GanttLayout {
  const width = input.width ?? 720;
  const margin: Margin = { top: 34, right: 20, bottom: 48, left: LABEL_CHARS * 6.2 + 12 };
  const height = margin.top + margin.bottom + Math.max(1, input.jobs.length) * ROW;
  const starts = input.jobs.map((j) => (j.start ? Date.parse(j.start) : NaN));
  const origin = Math.min(...starts.filter(Number.isFinite), Infinity);
  let cursor = 0;
  const spans = input.jobs.map((job, i) => {
    const start = starts[i]!;
    const estimated = !Number.isFinite(start) || !Number.isFinite(origin);
    const offset = estimated ? cursor : (start - origin) / 1000;
    const seconds = job.seconds !== null && Number.isFinite(job.seconds) && job.seconds >= 0 ? job.seconds : 0;
    cursor = Math.max(cursor, offset + seconds);
    return { offset, seconds, estimated };
  });
  const end = Math.max(1, ...spans.map((s) => s.offset + s.seconds));
  const unit = timeUnit(end);
  // The scale is in the display unit; marks keep their offsets and lengths in seconds.
  const x = linearScale(niceDomain(0, end / unit.seconds, 6), [margin.left, width - margin.right], 6);
  const marks = spans.map((s, row) => {
    const x0 = x(s.offset / unit.seconds);
    // A job shorter than a pixel still shows as a 2 px sliver.
    const w = Math.max(2, x((s.offset + s.seconds) / unit.seconds) - x0);
    return { row, zone: input.jobs[row]!.zone, ...s, x: x0, y: margin.top + row * ROW + 3, width: w, height: ROW - 6 };
  });
  const zones = [...new Set(input.jobs.map((j) => j.zone))];
  return { unit, width, height, margin, x, marks: input.jobs.length ? marks : [], zones };
}

/** Private zone darkest, synthesis zone light: the zone reads in greyscale too. */
function zoneColour(id: string, zones: string[], zone: string, estimated: boolean): string {
  const index = zone === 'private' ? 0 : zone === 'synthesis' ? 2 : 3 + Math.max(0, zones.indexOf(zone));
  return seriesFill(id, index, estimated);
}

export function ganttChart(input: GanttInput): string {
  const layout = ganttLayout(input);
  const { width, height, margin, x, marks, zones, unit } = layout;
  return drawChart(input, layout, marks, () => {
    const id = input.id;
    const rows = marks
      .map((m) => {
        const job = input.jobs[m.row]!;
        const cy = fmt(m.y + m.height / 2);
        const title = `${job.label} (${job.zone}): starts ${fmt(m.offset)} s, lasts ${fmt(m.seconds)} s${m.estimated ? ' (start not recorded: placed after the previous job)' : ''}`;
        return `<text x="${margin.left - 6}" y="${cy}" text-anchor="end" dominant-baseline="middle" fill="${STROKE}">${escapeHtml(clip(job.label, LABEL_CHARS))}<title>${escapeHtml(job.label)}</title></text><rect x="${fmt(m.x)}" y="${fmt(m.y)}" width="${fmt(m.width)}" height="${fmt(m.height)}" fill="${zoneColour(id, zones, m.zone, m.estimated)}" stroke="${STROKE}" stroke-width="0.5"><title>${escapeHtml(title)}</title></rect>`;
      })
      .join('');
    const items = zones.map((z) => ({ label: `${z} zone`, fill: zoneColour(id, zones, z, false) }));
    const grid = x.ticks
      .map(
        (t) =>
          `<line x1="${fmt(x(t))}" x2="${fmt(x(t))}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="#e1e5ea"/>`,
      )
      .join('');
    return {
      body: `${grid}${axisBottom(x, height - margin.bottom, `time since the first job started (${unit.label})`)}<g class="marks">${rows}</g>${legend(items, margin.left, 14)}<text x="${width - margin.right}" y="14" text-anchor="end" dominant-baseline="middle" fill="${MUTED}">${marks.some((m) => m.estimated) ? 'hatched: start not recorded' : ''}</text>`,
      defs: hatchDefs(id),
    };
  });
}

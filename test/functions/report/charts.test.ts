import { describe, expect, it } from 'vitest';
import { barChart, barLayout } from '../../../functions/report/charts/bar-chart.js';
import { ganttChart, ganttLayout } from '../../../functions/report/charts/gantt.js';
import { histogramChart, histogramLayout } from '../../../functions/report/charts/histogram.js';
import { lineChart, lineLayout } from '../../../functions/report/charts/line-chart.js';
import {
  bandScale,
  linearScale,
  niceDomain,
  niceTicks,
  padDomain,
  tickLabel,
} from '../../../functions/report/charts/scale.js';

const base = { id: 'c', title: 'T', description: 'D' };

describe('scales', () => {
  it('maps the domain onto the range linearly, inverted for a y axis', () => {
    const y = linearScale([0, 10], [200, 0]);
    expect(y(0)).toBe(200);
    expect(y(10)).toBe(0);
    expect(y(2.5)).toBe(150);
    expect(y(-5)).toBe(300);
  });

  it('gives a single value or an empty domain a width, never a division by zero', () => {
    expect(padDomain(3, 3)).toEqual([2.7, 3.3]);
    expect(padDomain(0, 0)).toEqual([-1, 1]);
    expect(padDomain(NaN, 4)).toEqual([0, 1]);
    expect(padDomain(5, 1)).toEqual([1, 5]);
    const x = linearScale([7, 7], [0, 100]);
    expect(x(7)).toBe(50);
    expect(Number.isFinite(x(Number.NaN))).toBe(true);
  });

  it('ticks on round steps that cover the domain, negative ones included', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(-3.2, 1.7, 5)).toEqual([-3, -2, -1, 0, 1]);
    expect(niceDomain(0.3, 9.2, 5)).toEqual([0, 10]);
    expect(niceDomain(-3.2, 1.7, 5)).toEqual([-4, 2]);
    expect(niceTicks(0, 1e9, 4)).toEqual([0, 5e8, 1e9]);
  });

  it('bands split the range with padding between them', () => {
    const band = bandScale(4, [0, 400], 0.2);
    expect(band.bandwidth).toBe(80);
    expect(band(0)).toBe(10);
    expect(band(3)).toBe(310);
    expect(bandScale(0, [0, 100]).bandwidth).toBe(0);
  });

  it('writes huge counts short', () => {
    expect(tickLabel(2_500_000)).toBe('2.5M');
    expect(tickLabel(40_000)).toBe('40k');
    expect(tickLabel(3e9)).toBe('3G');
    expect(tickLabel(0.25)).toBe('0.25');
  });
});

describe('bar chart', () => {
  const input = {
    ...base,
    categories: ['a', 'b'],
    series: [
      { name: 's1', values: [1, 4] },
      { name: 's2', values: [2, null] },
    ],
    valueLabel: 'score (0 – 1)',
    categoryLabel: 'metric',
  };

  it('draws a bar per present value, heights proportional to the values, from the zero line', () => {
    const layout = barLayout(input);
    expect(layout.marks).toHaveLength(3);
    const [a1, b1, a2] = layout.marks;
    expect(b1!.height / a1!.height).toBeCloseTo(4, 6);
    expect(a2!.height / a1!.height).toBeCloseTo(2, 6);
    for (const m of layout.marks) expect(m.y + m.height).toBeCloseTo(layout.value(0), 6);
    // Series side by side inside a group, groups apart.
    expect(a2!.x).toBeCloseTo(a1!.x + a1!.width, 6);
    expect(b1!.x).toBeGreaterThan(a2!.x + a2!.width);
  });

  it('keeps every bar inside the plot', () => {
    const layout = barLayout({ ...input, series: [{ name: 's', values: [3e9, 1, 0.5] }], categories: ['x', 'y', 'z'] });
    for (const m of layout.marks) {
      expect(m.x).toBeGreaterThanOrEqual(layout.margin.left);
      expect(m.x + m.width).toBeLessThanOrEqual(layout.width - layout.margin.right + 1e-6);
      expect(m.y).toBeGreaterThanOrEqual(layout.margin.top - 1e-6);
      expect(m.y + m.height).toBeLessThanOrEqual(layout.height - layout.margin.bottom + 1e-6);
    }
    expect(layout.marks[0]!.height).toBeGreaterThan(100);
  });

  it('draws negative values below the zero line', () => {
    const layout = barLayout({ ...input, series: [{ name: 's', values: [-2, 2] }] });
    const [neg, pos] = layout.marks;
    expect(neg!.y).toBeCloseTo(layout.value(0), 6);
    expect(pos!.y + pos!.height).toBeCloseTo(layout.value(0), 6);
    expect(neg!.height).toBeCloseTo(pos!.height, 6);
  });

  it('draws a zero as a 1 px stub on the zero line and an absent value as nothing', () => {
    const layout = barLayout({ ...input, series: [{ name: 's', values: [0, null] }] });
    expect(layout.marks).toHaveLength(1);
    expect(layout.marks[0]!.height).toBe(1);
    expect(layout.marks[0]!.y + 1).toBeCloseTo(layout.value(0), 6);
  });

  it('runs the axis from 0 to 1 when every value is zero', () => {
    const layout = barLayout({ ...input, series: [{ name: 's', values: [0, 0] }] });
    expect(layout.value.domain).toEqual([0, 1]);
  });

  it('one bar fills its band; no data draws a message and no marks', () => {
    const one = barLayout({ ...input, categories: ['only'], series: [{ name: 's', values: [5] }] });
    expect(one.marks).toHaveLength(1);
    expect(one.marks[0]!.width).toBeCloseTo(one.band.bandwidth, 6);
    const empty = barChart({ ...input, categories: [], series: [] });
    expect(empty).toContain('No data recorded.');
    expect(empty).not.toContain('class="marks"');
  });

  it('horizontal bars grow to the right from zero, and a reference line sits at its value', () => {
    const layout = barLayout({
      ...input,
      orientation: 'horizontal',
      categories: ['generator', 'reward', 'composed'],
      series: [{ name: 'ε', values: [5, 5, 7.4] }],
      references: [{ value: 8, label: 'target' }],
    });
    const zero = layout.value(0);
    for (const m of layout.marks) expect(m.x).toBeCloseTo(zero, 6);
    expect(layout.marks[2]!.width / layout.marks[0]!.width).toBeCloseTo(7.4 / 5, 6);
    expect(layout.references[0]!.at).toBeCloseTo(layout.value(8), 6);
    expect(layout.references[0]!.at).toBeGreaterThan(layout.marks[2]!.x + layout.marks[2]!.width);
  });

  it('escapes every label and keeps a long one whole only in its <title>', () => {
    const long = `<script>alert(1)</script>${'x'.repeat(10_000)}`;
    const out = barChart({ ...input, categories: [long, '"q"'], series: [{ name: long, values: [1, 2] }] });
    expect(out).not.toContain('<script>');
    expect(out).toContain('&lt;script&gt;');
    expect(out).toContain('&quot;q&quot;');
  });
});

describe('histogram', () => {
  const series = (edges: number[], counts: number[], name = 's') => ({ name, edges, counts });

  it('places each bin between its edges with a height proportional to its count', () => {
    const layout = histogramLayout({
      ...base,
      series: [series([-2, -1, 0, 1], [10, 30, 20])],
      xLabel: 'reward',
      yLabel: 'responses',
    });
    expect(layout.marks).toHaveLength(3);
    const [m0, m1, m2] = layout.marks;
    expect(m0!.x).toBeCloseTo(layout.x(-2), 6);
    expect(m0!.x + m0!.width).toBeCloseTo(layout.x(-1), 6);
    expect(m1!.height / m0!.height).toBeCloseTo(3, 6);
    expect(m2!.height / m0!.height).toBeCloseTo(2, 6);
    expect(m0!.y + m0!.height).toBeCloseTo(layout.y(0), 6);
  });

  it('overlays series on one x scale and marks τ where it falls', () => {
    const layout = histogramLayout({
      ...base,
      series: [series([0, 5, 10], [100, 100], 'all'), series([7, 8.5, 10], [10, 20], 'pool')],
      markers: [{ value: 7, label: 'τ' }],
      xLabel: 'reward',
      yLabel: 'responses',
    });
    const pool = layout.marks.filter((m) => m.series === 1);
    expect(pool[0]!.x).toBeCloseTo(layout.x(7), 6);
    expect(layout.markers[0]!.at).toBeCloseTo(pool[0]!.x, 6);
  });

  it('handles huge counts without leaving the plot, and a single value as one visible bar', () => {
    const huge = histogramLayout({ ...base, series: [series([0, 1, 2], [1e12, 1])], xLabel: 'r', yLabel: 'n' });
    expect(huge.marks[0]!.y).toBeGreaterThanOrEqual(huge.margin.top - 1e-6);
    expect(huge.marks[1]!.height).toBeGreaterThan(0);
    expect(huge.marks[1]!.height).toBeLessThan(1);
    const one = histogramLayout({ ...base, series: [series([3, 3], [12])], xLabel: 'r', yLabel: 'n' });
    expect(one.marks).toHaveLength(1);
    expect(one.marks[0]!.width).toBeGreaterThanOrEqual(2);
  });

  it('draws nothing for empty or broken data, and says so', () => {
    expect(histogramLayout({ ...base, series: [], xLabel: 'r', yLabel: 'n' }).marks).toEqual([]);
    expect(
      histogramLayout({
        ...base,
        series: [series([0, NaN, 2], [1, Number.POSITIVE_INFINITY])],
        xLabel: 'r',
        yLabel: 'n',
      }).marks,
    ).toEqual([]);
    expect(histogramChart({ ...base, series: [series([], [])], xLabel: 'r', yLabel: 'n' })).toContain(
      'No data recorded.',
    );
  });
});

describe('line chart', () => {
  it('puts a point per present value and breaks the line at a gap', () => {
    const layout = lineLayout({
      ...base,
      xs: [0, 1, 2, 3],
      series: [{ name: 'mean', values: [1, null, -2, 4] }],
      xLabel: 'round',
      yLabel: 'reward',
    });
    expect(layout.points).toHaveLength(3);
    expect(layout.paths.map((p) => p.points.length)).toEqual([1, 2]);
    const [p0, p2, p3] = layout.points;
    expect(p0!.x).toBeLessThan(p2!.x);
    expect(p3!.y).toBeLessThan(p0!.y);
    expect(p2!.y).toBeGreaterThan(p0!.y);
    expect((p0!.y - p3!.y) / (p2!.y - p0!.y)).toBeCloseTo(1, 6);
  });

  it('wraps a legend wider than the chart, and lowers the plot by the rows it adds', () => {
    const names = ['none', 'ppl', 'reward', 'rouge-l', 'base target', 'non-private bound (no DP)'];
    const input = {
      ...base,
      xs: [1, 8],
      series: names.map((name, i) => ({ name, values: [i / 10, i / 5] })),
      xLabel: 'ε',
      yLabel: 'accuracy',
      width: 560,
      height: 320,
    };
    const one = lineLayout({ ...input, series: input.series.slice(0, 2) });
    const wrapped = lineLayout(input);
    expect(one.margin.top).toBe(34);
    expect(one.height).toBe(320);
    expect(wrapped.margin.top).toBe(34 + 18);
    expect(wrapped.height).toBe(320 + 18);
    const svg = lineChart(input);
    const legendSvg = svg.slice(svg.indexOf('<g class="legend">'));
    const legendXs = [...legendSvg.matchAll(/<line x1="([\d.]+)" x2="([\d.]+)"/g)].map((m) => Number(m[2]));
    // The samples stand on two rows: the legend wrapped.
    const rows = new Set([...legendSvg.matchAll(/<line [^>]*y1="([\d.]+)"/g)].map((m) => m[1]));
    expect(rows.size).toBe(2);
    expect(legendXs).toHaveLength(names.length);
    for (const right of legendXs) expect(right).toBeLessThanOrEqual(560 - 16);
    expect(svg).toContain('non-private bound (no DP)');
  });

  it('ticks the x axis at the given values, and gives eight series eight looks', () => {
    const input = {
      ...base,
      xs: [1, 4, 8],
      series: Array.from({ length: 8 }, (_, i) => ({ name: `s${i}`, values: [i, i, i] })),
      xLabel: 'ε',
      yLabel: 'accuracy',
    };
    // Round steps over [1, 8] would label 5 alone; a grid of ε wants its own values.
    expect(lineLayout(input).x.ticks).toEqual([5]);
    const svg = lineChart({ ...input, xTicks: [1, 4, 8] });
    const axis = svg.slice(svg.indexOf('<g class="axis axis-x">'));
    expect([...axis.matchAll(/<text [^>]*>([^<]+)<\/text>/g)].map((m) => m[1]).slice(0, 3)).toEqual(['1', '4', '8']);
    const looks = [
      ...svg.matchAll(/<polyline fill="none" stroke="([^"]+)" stroke-width="2.5" stroke-dasharray="([^"]*)"/g),
    ];
    expect(looks).toHaveLength(8);
    expect(new Set(looks.map((m) => `${m[1]}|${m[2]}`)).size).toBe(8);
  });
});

describe('gantt', () => {
  const job = (label: string, zone: string, start: string | null, seconds: number | null) => ({
    label,
    zone,
    start,
    seconds,
  });

  it('places each job at its start on a shared clock, one row each', () => {
    const layout = ganttLayout({
      ...base,
      jobs: [
        job('train generator', 'private', '2026-01-01T00:00:00Z', 600),
        job('train reward', 'private', '2026-01-01T00:05:00Z', 300),
        job('sample', 'synthesis', '2026-01-01T00:10:00Z', 1200),
      ],
    });
    const [a, b, c] = layout.marks;
    expect(a!.x).toBeCloseTo(layout.x(0), 6);
    expect(b!.offset).toBe(300);
    expect(layout.unit.label).toBe('min');
    expect(b!.x).toBeCloseTo(layout.x(5), 6);
    expect(c!.width / a!.width).toBeCloseTo(2, 6);
    expect(b!.y).toBeGreaterThan(a!.y + a!.height);
    expect(layout.zones).toEqual(['private', 'synthesis']);
  });

  it('puts a job without a start after the previous one and marks it estimated', () => {
    const layout = ganttLayout({
      ...base,
      jobs: [job('a', 'private', null, 10), job('b', 'synthesis', null, 5), job('c', 'synthesis', null, null)],
    });
    expect(layout.marks.map((m) => m.offset)).toEqual([0, 10, 15]);
    expect(layout.marks.every((m) => m.estimated)).toBe(true);
    expect(layout.marks[2]!.width).toBe(2);
    expect(ganttChart({ ...base, jobs: [] })).toContain('No data recorded.');
  });
});

describe('job labels', () => {
  it('puts the round number where the state names it generically', async () => {
    const { jobLabel } = await import('../../../functions/report/report-charts.js');
    expect(jobLabel({ state: 'Fine-tune target (round r)', round: 2 })).toBe('Fine-tune target (round 2)');
    expect(jobLabel({ state: 'Refine round', round: 1 })).toBe('Refine round 1');
    expect(jobLabel({ state: 'Fine-tune target (round 0)', round: 0 })).toBe('Fine-tune target (round 0)');
    expect(jobLabel({ state: 'Score candidates', round: 0 })).toBe('Score candidates · round 0');
    expect(jobLabel({ state: 'Evaluate', round: null })).toBe('Evaluate');
  });
});

describe('evaluation charts', () => {
  it('never puts BLEU (0–100) on the axis of the 0–1 scores', async () => {
    const { evaluationGroups } = await import('../../../functions/report/report-charts.js');
    const rows = [
      { model: 'base', n: 8, rougeL: 0.2, bleu: 5.1, exactMatch: 0, answerAccuracy: 0.1, perplexity: 12 },
      { model: 'round-0', n: 8, rougeL: 0.3, bleu: 8.4, exactMatch: 0.1, answerAccuracy: 0.4, perplexity: 9 },
    ];
    expect(evaluationGroups(rows)).toEqual([
      { id: 'chart-evaluation', axis: 'score (0 – 1)', metrics: ['rougeL', 'exactMatch', 'answerAccuracy'] },
      { id: 'chart-evaluation-bleu', axis: 'BLEU (0 – 100)', metrics: ['bleu'] },
      { id: 'chart-evaluation-perplexity', axis: 'perplexity', metrics: ['perplexity'] },
    ]);
  });
});

describe('greyscale', () => {
  /** CIE L* of an sRGB hex colour: what is left of a colour when printed in grey. */
  const lightness = (hex: string) => {
    const [r, g, b] = [1, 3, 5].map((i) => {
      const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    const y = 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    return y > 216 / 24389 ? 116 * Math.cbrt(y) - 16 : (24389 / 27) * y;
  };

  it('the colours drawn side by side differ by at least 20 points of lightness', async () => {
    const { PALETTE } = await import('../../../functions/report/charts/svg.js');
    // Histogram: candidates (2) behind the pool (0); Gantt: private (0), synthesis (2); lines: mean (0), τ (1).
    expect(Math.abs(lightness(PALETTE[0]) - lightness(PALETTE[2]))).toBeGreaterThanOrEqual(20);
    expect(Math.abs(lightness(PALETTE[0]) - lightness(PALETTE[1]))).toBeGreaterThanOrEqual(20);
  });

  it('rounds get darker in order, from the first to the last', async () => {
    const { roundRamp } = await import('../../../functions/report/report-charts.js');
    const ls = Array.from({ length: 9 }, (_, i) => lightness(roundRamp(i, 9)));
    for (let i = 1; i < ls.length; i++) expect(ls[i]!).toBeLessThan(ls[i - 1]!);
    expect(ls[0]! - ls[8]!).toBeGreaterThanOrEqual(50);
  });
});

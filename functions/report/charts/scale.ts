/**
 * Scales for the report's SVG charts: data values to pixels. Pure; every chart builder
 * goes through these so that empty data, a single value and huge or negative ranges are
 * handled in one place.
 */

export interface LinearScale {
  (value: number): number;
  domain: [number, number];
  range: [number, number];
  ticks: number[];
}

/** A domain that always has width: a single value v becomes [v − 1, v + 1] (or [0, 1] for 0). */
export function padDomain(min: number, max: number): [number, number] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min > max) [min, max] = [max, min];
  if (min === max) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    return [min - pad, max + pad];
  }
  return [min, max];
}

/** Round tick steps (1, 2, 5 × 10^k) so that about `count` ticks cover the domain. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  const [lo, hi] = padDomain(min, max);
  const rough = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** The domain widened to round numbers, so the axis starts and ends on a tick. */
export function niceDomain(min: number, max: number, count = 5): [number, number] {
  const [lo, hi] = padDomain(min, max);
  const ticks = niceTicks(lo, hi, count);
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : hi - lo;
  return [Math.min(lo, Math.floor(lo / step) * step), Math.max(hi, Math.ceil(hi / step) * step)];
}

export function linearScale(domain: [number, number], range: [number, number], tickCount = 5): LinearScale {
  const [d0, d1] = padDomain(domain[0], domain[1]);
  const [r0, r1] = range;
  const scale = ((value: number) => {
    const v = Number.isFinite(value) ? value : d0;
    return r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
  }) as LinearScale;
  scale.domain = [d0, d1];
  scale.range = [r0, r1];
  scale.ticks = niceTicks(d0, d1, tickCount).filter((t) => t >= d0 - 1e-9 && t <= d1 + 1e-9);
  return scale;
}

export interface BandScale {
  (index: number): number;
  bandwidth: number;
}

/** `count` equal bands across the range with `padding` (a share of each step) between them. */
export function bandScale(count: number, range: [number, number], padding = 0.2): BandScale {
  const [r0, r1] = range;
  const step = count > 0 ? (r1 - r0) / count : 0;
  const scale = ((index: number) => r0 + index * step + (step * padding) / 2) as BandScale;
  scale.bandwidth = step * (1 - padding);
  return scale;
}

/** A tick label: short, exact for integers, thousands as k/M so that huge counts fit. */
export function tickLabel(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${Number((value / 1e9).toPrecision(3))}G`;
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  if (abs !== 0 && abs < 1e-3) return value.toExponential(1);
  return String(Number(value.toPrecision(4)));
}

/**
 * Summaries of a stream of numbers (rewards, perplexities) in bounded memory: count, mean,
 * min and max are exact; quantiles and the histogram come from a fixed-size uniform
 * reservoir, exact until it fills. Pure and deterministic (seeded), so a report rebuilt
 * from the same files is the same.
 */

export interface Histogram {
  /** bins + 1 edges from min to max. */
  edges: number[];
  counts: number[];
}

export interface Summary {
  count: number;
  mean: number | null;
  min: number | null;
  p10: number | null;
  p25: number | null;
  median: number | null;
  p75: number | null;
  p90: number | null;
  max: number | null;
  /** True when quantiles come from a sample of the values. */
  sampled: boolean;
  histogram: Histogram;
}

export const RESERVOIR_SIZE = 50_000;
const BINS = 20;

export class DistributionAccumulator {
  private count = 0;
  private sum = 0;
  private min = Infinity;
  private max = -Infinity;
  private readonly reservoir: number[] = [];
  private state: number;

  constructor(
    private readonly capacity = RESERVOIR_SIZE,
    seed = 1,
  ) {
    this.state = seed >>> 0 || 1;
  }

  /** xorshift32: a small deterministic generator is all the reservoir needs. */
  private random(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 2 ** 32;
  }

  add(value: number): void {
    if (!Number.isFinite(value)) return;
    this.count += 1;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (this.reservoir.length < this.capacity) {
      this.reservoir.push(value);
    } else {
      const slot = Math.floor(this.random() * this.count);
      if (slot < this.capacity) this.reservoir[slot] = value;
    }
  }

  summary(): Summary {
    if (this.count === 0) {
      return {
        count: 0,
        mean: null,
        min: null,
        p10: null,
        p25: null,
        median: null,
        p75: null,
        p90: null,
        max: null,
        sampled: false,
        histogram: { edges: [], counts: [] },
      };
    }
    const sorted = Float64Array.from(this.reservoir).sort();
    const q = (p: number) => quantile(sorted, p);
    return {
      count: this.count,
      mean: this.sum / this.count,
      min: this.min,
      p10: q(0.1),
      p25: q(0.25),
      median: q(0.5),
      p75: q(0.75),
      p90: q(0.9),
      max: this.max,
      sampled: this.count > this.reservoir.length,
      histogram: histogram(sorted, this.min, this.max),
    };
  }

  /**
   * The histogram on given bounds, so that two streams (all candidates, the kept pool) can
   * be overlaid bin for bin. Counts are scaled from the reservoir to the full count, so a
   * sampled stream still reads in responses, not in reservoir slots.
   */
  histogramOver(min: number, max: number, bins = BINS): Histogram {
    if (this.count === 0 || !Number.isFinite(min) || !Number.isFinite(max)) return { edges: [], counts: [] };
    const scale = this.count / this.reservoir.length;
    if (min === max) return { edges: [min, max], counts: [this.count] };
    const raw = histogram(this.reservoir, min, max, bins);
    return { edges: raw.edges, counts: raw.counts.map((c) => Math.round(c * scale)) };
  }
}

/** Linear interpolation between closest ranks (the common "type 7" definition). */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  const position = (sorted.length - 1) * p;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const a = sorted[lower]!;
  const b = sorted[upper]!;
  return a + (b - a) * (position - lower);
}

function histogram(values: ArrayLike<number>, min: number, max: number, bins = BINS): Histogram {
  if (min === max) return { edges: [min, max], counts: [values.length] };
  const width = (max - min) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + i * width));
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const bin = Math.max(0, Math.min(bins - 1, Math.floor((values[i]! - min) / width)));
    counts[bin]! += 1;
  }
  return { edges, counts };
}

/** Running summary of a stream of numbers, for the run report (count, mean, min, max). */
export interface Summary {
  count: number;
  mean: number | null;
  min: number | null;
  max: number | null;
}

export class RunningSummary {
  private count = 0;
  private sum = 0;
  private min = Infinity;
  private max = -Infinity;

  add(value: number): void {
    this.count += 1;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  toJSON(): Summary {
    if (this.count === 0) return { count: 0, mean: null, min: null, max: null };
    return { count: this.count, mean: this.sum / this.count, min: this.min, max: this.max };
  }
}

/**
 * rdpToEpsilon at its edges (core/privacy/conversion.ts): malformed curves, orders without a
 * bound, and δ outside (0, 1). Written against the mutants that survived the golden values.
 */
import { describe, expect, it } from 'vitest';
import { mechanismEpsilon, rdpToEpsilon } from '../../../core/privacy/index.js';

const d = 1e-5;
/** ε at one order, as the conversion defines it. */
const at = (rdp: number, alpha: number) =>
  rdp - (Math.log(d) + Math.log(alpha)) / (alpha - 1) + Math.log((alpha - 1) / alpha);

describe('rdpToEpsilon', () => {
  it('refuses a curve whose length differs from the orders', () => {
    expect(() => rdpToEpsilon({ orders: [2, 3], rdp: [1], delta: d })).toThrow(
      new RangeError('orders (2) and rdp (1) differ in length'),
    );
  });

  it('skips orders whose ε is NaN, wherever they stand', () => {
    expect(rdpToEpsilon({ orders: [2, 3, 4], rdp: [NaN, 0.5, 3], delta: d })).toEqual({
      epsilon: at(0.5, 3),
      order: 3,
    });
  });

  it('an all-infinite curve gives ε = ∞ at the first order (numpy nanargmin), an all-NaN one no order', () => {
    expect(rdpToEpsilon({ orders: [2, 3, 4], rdp: [Infinity, Infinity, Infinity], delta: d })).toEqual({
      epsilon: Infinity,
      order: 2,
    });
    expect(rdpToEpsilon({ orders: [2, 3], rdp: [NaN, NaN], delta: d })).toEqual({ epsilon: Infinity, order: NaN });
  });

  it('refuses δ outside (0, 1)', () => {
    const m = { sampleRate: 0.1, noiseMultiplier: 1, steps: 10 };
    for (const delta of [0, 1, 1.5, -1e-5])
      expect(() => mechanismEpsilon(m, delta)).toThrow(/delta must lie in \(0, 1\)/);
  });
});

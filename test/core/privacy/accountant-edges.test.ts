/**
 * The accountant at its edges (core/privacy/conversion.ts, rdp.ts): malformed curves, orders
 * without a bound, parameters outside their domain, log-space zeros. Written against the
 * mutants that survived the golden values and properties.
 */
import { describe, expect, it } from 'vitest';
import {
  composeRdp,
  logAdd,
  logErfc,
  logSub,
  mechanismEpsilon,
  rdpCurve,
  rdpOfSampledGaussian,
  rdpToEpsilon,
} from '../../../core/privacy/index.js';

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

describe('rdp.ts edges', () => {
  it('log-space zero plus zero is zero, and a negative difference is refused by name', () => {
    expect(logAdd(-Infinity, -Infinity)).toBe(-Infinity);
    expect(() => logSub(1, 2)).toThrow(new RangeError('logSub: the difference would be negative'));
  });

  it('refuses a negative sampling rate, and gives ∞ at order ∞', () => {
    expect(() => rdpOfSampledGaussian({ sampleRate: -0.1, noiseMultiplier: 1, order: 2 })).toThrow(/sampleRate/);
    expect(rdpOfSampledGaussian({ sampleRate: 0.1, noiseMultiplier: 1, order: Infinity })).toBe(Infinity);
  });

  it('accepts zero steps, refuses negative ones, and composes nothing to zeros', () => {
    const m = { sampleRate: 0.1, noiseMultiplier: 1, steps: 0 };
    expect(rdpCurve(m, [2, 3])).toEqual([0, 0]);
    expect(() => rdpCurve({ ...m, steps: -1 }, [2, 3])).toThrow(/steps must be a non-negative integer/);
    expect(composeRdp([], [2, 3])).toEqual([0, 0]);
  });
});

describe('logErfc', () => {
  it('matches log(math.erfc(x)) of Python 3.11 to 1e-11 on each branch, and the infinities', () => {
    // python3 -c "import math; print([math.log(math.erfc(x)) for x in (0.5, 2.9, 5.0, -1.0)])"
    const reference: [number, number][] = [
      [0.5, -0.7350111298370844],
      [2.9, -10.099554065545236],
      [5, -27.200889545537436],
      [-1, 0.6112323176780705],
    ];
    for (const [x, value] of reference)
      expect(Math.abs(logErfc(x) - value)).toBeLessThanOrEqual(1e-11 * Math.abs(value));
    expect(logErfc(Infinity)).toBe(-Infinity);
    expect(logErfc(-Infinity)).toBe(Math.LN2);
    expect(logErfc(Number.NaN)).toBeNaN();
  });
});

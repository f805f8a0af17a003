import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32, sampleIndices } from '../../../core/selection/index.js';

describe('sampleIndices', () => {
  it('draws k distinct sorted indices below n, the same for the same seed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.nat(),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (n, kRaw, seed) => {
          const k = n === 0 ? 0 : kRaw % (n + 1);
          const drawn = [...sampleIndices(n, k, seed)];
          expect(drawn).toHaveLength(k);
          expect(new Set(drawn).size).toBe(k);
          expect(drawn.every((i) => i >= 0 && i < n)).toBe(true);
          expect([...drawn].sort((a, b) => a - b)).toEqual(drawn);
          expect([...sampleIndices(n, k, seed)]).toEqual(drawn);
        },
      ),
    );
  });

  it('is roughly uniform: each of 10 indices drawn about k/n of the time', () => {
    const counts = new Array(10).fill(0);
    for (let seed = 0; seed < 2000; seed += 1) for (const i of sampleIndices(10, 3, seed)) counts[i] += 1;
    // Expected 600 each; a binomial sd ≈ 20, so ±100 fails only on a biased sampler.
    for (const c of counts) expect(Math.abs(c - 600)).toBeLessThan(100);
  });

  it('refuses k above n', () => {
    expect(() => sampleIndices(3, 4, 0)).toThrow(RangeError);
  });

  it('mulberry32 stays in [0, 1)', () => {
    const random = mulberry32(42);
    for (let i = 0; i < 10_000; i += 1) {
      const x = random();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});

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

  it('refuses a negative or fractional k, naming both numbers', () => {
    expect(() => sampleIndices(3, -1, 0)).toThrow(new RangeError('cannot sample -1 of 3'));
    expect(() => sampleIndices(3, 1.5, 0)).toThrow(new RangeError('cannot sample 1.5 of 3'));
    expect(() => sampleIndices(3, 4, 0)).toThrow(new RangeError('cannot sample 4 of 3'));
  });

  it('takes none, all, or some (sorted ascending) at the edges', () => {
    expect([...sampleIndices(0, 0, 1)]).toEqual([]);
    expect([...sampleIndices(5, 0, 1)]).toEqual([]);
    expect([...sampleIndices(3, 3, 9)]).toEqual([0, 1, 2]);
    for (let seed = 0; seed < 20; seed += 1) {
      const drawn = [...sampleIndices(50, 10, seed)];
      expect(drawn).toEqual([...drawn].sort((a, b) => a - b));
    }
  });

  it('mulberry32 gives the reference sequence', () => {
    // From an independent Python transcription of the published mulberry32 (Tommy Ettinger):
    // state += 0x6D2B79F5; z = (state ^ state >> 15) * (state | 1); z ^= z + (z ^ z >> 7) * (z | 61);
    // (z ^ z >> 14) / 2^32, all 32-bit.
    const fortyTwo = mulberry32(42);
    expect([fortyTwo(), fortyTwo(), fortyTwo(), fortyTwo()]).toEqual([
      0.6011037519201636, 0.44829055899754167, 0.8524657934904099, 0.6697340414393693,
    ]);
    const zero = mulberry32(0);
    expect([zero(), zero()]).toEqual([0.26642920868471265, 0.0003297457005828619]);
  });

  it('mulberry32 stays in [0, 1)', () => {
    const random = mulberry32(42);
    for (let i = 0; i < 10_000; i += 1) {
      const x = random();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});

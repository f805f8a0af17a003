import { describe, expect, it } from 'vitest';
import { lcsLength, meanRougeL, rougeL, tokenize } from '../../../core/selection/index.js';

describe('tokenize', () => {
  it('lower-cases and splits on anything that is not a letter or digit', () => {
    expect(tokenize("Take 2 tablets, twice-daily (don't exceed).")).toEqual([
      'take',
      '2',
      'tablets',
      'twice',
      'daily',
      'don',
      't',
      'exceed',
    ]);
  });
  it('keeps non-ASCII words', () => {
    expect(tokenize('Fièvre: paracétamol 500mg')).toEqual(['fièvre', 'paracétamol', '500mg']);
  });
  it('gives no tokens for punctuation only', () => {
    expect(tokenize(' ... !? ')).toEqual([]);
  });
});

describe('ROUGE-L', () => {
  it('measures the longest common subsequence, not substring', () => {
    expect(lcsLength(['a', 'b', 'c', 'd', 'e'], ['a', 'x', 'c', 'e'])).toBe(3);
    expect(lcsLength(['a', 'b'], [])).toBe(0);
  });

  it('is the F1 of LCS precision and recall', () => {
    // Lin (2004) example: "police killed the gunman" vs "police kill the gunman": LCS 3 of 4 and 4.
    const reference = tokenize('police killed the gunman');
    expect(rougeL(tokenize('police kill the gunman'), reference)).toBeCloseTo(0.75, 12);
    // "the gunman kill police": LCS 2 ("the gunman") → P = R = 0.5.
    expect(rougeL(tokenize('the gunman kill police'), reference)).toBeCloseTo(0.5, 12);
    // Different lengths: LCS 3, P 3/3, R 3/6 → F = 2/3.
    expect(rougeL(['a', 'b', 'c'], ['a', 'x', 'b', 'y', 'c', 'z'])).toBeCloseTo(2 / 3, 12);
  });

  it('is 1 for identical and 0 for disjoint or empty texts', () => {
    expect(rougeL(['x', 'y'], ['x', 'y'])).toBe(1);
    expect(rougeL(['x'], ['y'])).toBe(0);
    expect(rougeL([], ['y'])).toBe(0);
  });

  it('averages over references, 0 without any', () => {
    expect(meanRougeL(['a', 'b'], [['a', 'b'], ['c']])).toBeCloseTo(0.5, 12);
    expect(meanRougeL(['a'], [])).toBe(0);
  });
});

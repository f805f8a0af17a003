/**
 * The planner's searches are regula falsi with the Illinois step on nearly linear functions
 * (core/privacy/planner.ts): a handful of accountant evaluations per σ. The bounds below are the
 * measured counts with a little room; a search that degrades to bisection, or that stops on its
 * bracket width instead of its tolerance, needs several times more and fails here.
 *
 * The same plans are pinned bit for bit. The planner is a pure function of its inputs, and a
 * change to either search moves each σ within its tolerance: the plans docs/privacy.md quotes,
 * and one an operator previewed with an older `rewardds plan`, would no longer be the σ a run
 * trains with. Update these values (and the docs' table) only on purpose.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunConfigInput } from '../../../core/config/index.js';

const calls = vi.hoisted(() => ({ curves: 0 }));
vi.mock('../../../core/privacy/rdp.js', async (importOriginal) => {
  // Typed through the barrel (the import scan allows no other path); the mock itself must name the module.
  const original = await importOriginal<typeof import('../../../core/privacy/index.js')>();
  return {
    ...original,
    rdpCurve: (...args: Parameters<typeof original.rdpCurve>) => {
      calls.curves += 1;
      return original.rdpCurve(...args);
    },
  };
});

const { planPrivacy } = await import('../../../core/privacy/index.js');
const { parseRunConfig } = await import('../../../core/config/index.js');

const plan = (records: number, config: RunConfigInput = {}) =>
  planPrivacy({ records, config: parseRunConfig({ ...config, privacy: { accountant: 'rdp', ...config.privacy } }) });

describe('the planner needs few accountant evaluations, and reaches the same plan bit for bit', () => {
  beforeEach(() => {
    calls.curves = 0;
  });

  // [case, records, config, RDP curves computed: 40, 57, 25, 64 and 57 measured, plus 10 %, the plan's
  // σ_G, σ_R and composed ε].
  it.each([
    ['the medical defaults', 3364, {}, 44, [0.6406557059720965, 0.6406557059720965, 7.9999865271113295]],
    [
      'a tight budget',
      2000,
      { privacy: { epsilon: 2 } },
      62,
      [1.3019784156963816, 1.3019784156963816, 1.9999998577202662],
    ],
    // The outer search's Illinois step on the upper end (fHi halved after a step below) matters
    // here: halving it on every step, or on the wrong side, takes 35 curves.
    [
      'a loose budget',
      3364,
      { privacy: { epsilon: 50 } },
      28,
      [0.3383350405505291, 0.3383350405505291, 49.938895326615274],
    ],
    [
      'an uneven split and schedules',
      1000,
      { privacy: { split: 0.3 }, generator: { batchSize: 10, epochs: 1 }, reward: { batchSize: 250, epochs: 5 } },
      70,
      [0.6837290584124356, 1.0922071157724091, 7.999920272608687],
    ],
    // Two steps below the target in a row, so the Illinois step halves fHi: without it the
    // search takes another path to its tolerance (a different σ).
    [
      'a loose budget on more records',
      20_000,
      { privacy: { epsilon: 50 } },
      62,
      [0.30213593942936023, 0.30213593942936023, 49.99988696035272],
    ],
  ] as const)('%s', (_name, records, config, bound, golden) => {
    const p = plan(records, config);
    expect(p.epsilon).toBeLessThanOrEqual(p.targetEpsilon);
    expect(p.epsilon).toBeGreaterThanOrEqual(0.99 * p.targetEpsilon);
    expect(calls.curves).toBeGreaterThan(0);
    expect(calls.curves).toBeLessThanOrEqual(bound);
    expect([p.generator.noiseMultiplier, p.reward.noiseMultiplier, p.epsilon]).toEqual(golden);
  });
});

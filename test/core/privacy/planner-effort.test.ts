/**
 * The planner's searches are regula falsi with the Illinois step on nearly linear functions
 * (core/privacy/planner.ts): a handful of accountant evaluations per σ. The bounds below are the
 * measured counts with a little room; a search that degrades to bisection, or that stops on its
 * bracket width instead of its tolerance, needs several times more and fails here.
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

describe('the planner needs few accountant evaluations', () => {
  beforeEach(() => {
    calls.curves = 0;
  });

  // [case, records, config, RDP curves computed]: 40, 57, 25 and 64 measured, plus 10 %.
  it.each([
    ['the medical defaults', 3364, {}, 44],
    ['a tight budget', 2000, { privacy: { epsilon: 2 } }, 62],
    // The outer search's Illinois step on the upper end (fHi halved after a step below) matters
    // here: halving it on every step, or on the wrong side, takes 35 curves.
    ['a loose budget', 3364, { privacy: { epsilon: 50 } }, 28],
    [
      'an uneven split and schedules',
      1000,
      { privacy: { split: 0.3 }, generator: { batchSize: 10, epochs: 1 }, reward: { batchSize: 250, epochs: 5 } },
      70,
    ],
  ] as const)('%s', (_name, records, config, bound) => {
    const p = plan(records, config);
    expect(p.epsilon).toBeLessThanOrEqual(p.targetEpsilon);
    expect(p.epsilon).toBeGreaterThanOrEqual(0.99 * p.targetEpsilon);
    expect(calls.curves).toBeGreaterThan(0);
    expect(calls.curves).toBeLessThanOrEqual(bound);
  });
});

/** The run-time split the local summary shows: wall time vs time inside job bodies. */
import { describe, expect, it } from 'vitest';
import { runTime, timeLine } from '../../local/summary.js';

describe('run time split', () => {
  it('counts time when any job body ran once, clipped to the run', () => {
    // Two bodies side by side (2–6 s and 4–8 s), one after (10–11 s), one past the end (19–25 s).
    const bodies = [
      { start: 4_000, end: 8_000 },
      { start: 2_000, end: 6_000 },
      { start: 10_000, end: 11_000 },
      { start: 19_000, end: 25_000 },
    ];
    expect(runTime(0, 20_000, bodies)).toEqual({
      wallSeconds: 20,
      jobBodySeconds: 8,
      overheadSeconds: 12,
      jobBodyShare: 0.4,
    });
  });

  it('leaves everything to overhead when no job body ran', () => {
    expect(runTime(1_000, 3_000, [])).toEqual({
      wallSeconds: 2,
      jobBodySeconds: 0,
      overheadSeconds: 2,
      jobBodyShare: 0,
    });
    expect(runTime(1_000, 1_000, []).jobBodyShare).toBe(0);
  });

  it('prints one line with the share', () => {
    expect(timeLine(runTime(0, 10_000, [{ start: 0, end: 7_000 }]))).toBe(
      '10.0s wall: 7.0s inside job bodies (70 %), 3.0s pipeline overhead ' +
        '(synthesis, orchestration, S3 copies, process start, imports)',
    );
  });
});

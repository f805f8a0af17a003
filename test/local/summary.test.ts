/** The run-time split the local summary shows: wall time vs time inside job bodies. */
import { describe, expect, it } from 'vitest';
import { localTiming, runTime, timeLine } from '../../local/summary.js';

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

  it('splits the execution alone when it is given', () => {
    // Set-up 0–5 s, execution 5–15 s with bodies 6–9 s and 12–14 s, a body before it (1–2 s), copy 15–20 s.
    const bodies = [
      { start: 1_000, end: 2_000 },
      { start: 6_000, end: 9_000 },
      { start: 12_000, end: 14_000 },
    ];
    const time = runTime(0, 20_000, bodies, { start: 5_000, end: 15_000 });
    expect(time.jobBodySeconds).toBe(6);
    expect(time.execution).toEqual({ seconds: 10, jobBodySeconds: 5, jobBodyShare: 0.5 });
    expect(runTime(0, 20_000, bodies)).not.toHaveProperty('execution');
    expect(timeLine(time)).toMatch(/; the execution alone 10\.0s, 50 % inside job bodies$/);
  });

  it('lists each job with its wall and body seconds in the local timing file', () => {
    const time = runTime(0, 10_000, [{ start: 1_000, end: 3_500 }]);
    const jobs = [
      { name: 'a', stage: 'train-generator', status: 'Completed', seconds: 4, body: { start: 1_000, end: 3_500 } },
      { name: 'b', stage: 'score', status: 'Failed' },
      { name: 'c', stage: 'score', status: 'Completed', seconds: 0.5, reusedFrom: 'x' },
    ];
    expect(localTiming({ time, stateSeconds: { 'Build reward pairs': 2 }, jobs })).toEqual({
      time,
      stateSeconds: { 'Build reward pairs': 2 },
      jobs: [
        { name: 'a', stage: 'train-generator', status: 'Completed', seconds: 4, bodySeconds: 2.5 },
        { name: 'b', stage: 'score', status: 'Failed', seconds: null, bodySeconds: null },
        { name: 'c', stage: 'score', status: 'Completed', seconds: 0.5, bodySeconds: null, reusedFrom: 'x' },
      ],
    });
  });

  it('prints one line with the share', () => {
    expect(timeLine(runTime(0, 10_000, [{ start: 0, end: 7_000 }]))).toBe(
      '10.0s wall: 7.0s inside job bodies (70 %), 3.0s pipeline overhead ' +
        '(synthesis, orchestration, S3 copies, process start, imports)',
    );
  });
});

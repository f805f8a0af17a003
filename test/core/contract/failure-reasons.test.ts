import { describe, expect, it } from 'vitest';
import {
  crossingCause,
  PRIVATE_JOB_REASONS,
  PRIVATE_ZONE_STATES,
  privateJobReason,
} from '../../../core/contract/index.js';
import { STATE_NAMES } from '../../../infra/pipeline/definition.js';

describe('failure reasons that cross into the synthesis zone', () => {
  it('names exactly the states of the private zone, as the state machine spells them', () => {
    const { prepare, trainGenerator, buildPairs, trainReward, release, evaluate, releaseEvaluation } = STATE_NAMES;
    expect([...PRIVATE_ZONE_STATES].sort()).toEqual(
      [prepare, trainGenerator, buildPairs, trainReward, release, evaluate, releaseEvaluation].sort(),
    );
  });

  it.each([
    ['Failed', 'OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB', PRIVATE_JOB_REASONS.outOfMemory],
    ['Failed', 'MemoryError: unable to allocate 812 MiB for an array', PRIVATE_JOB_REASONS.outOfMemory],
    ['Stopped', 'MaxRuntimeExceeded (MaxRuntimeInSeconds 3600)', PRIVATE_JOB_REASONS.timeLimit],
    ['Failed', 'CapacityError: Unable to provision requested ML compute capacity', PRIVATE_JOB_REASONS.capacity],
    ['Stopped', 'stopped before it finished (Stopped)', PRIVATE_JOB_REASONS.stopped],
    ['Failed', 'ValueError raised in dp.py:88 (step); message withheld', PRIVATE_JOB_REASONS.failed],
    ['Failed', undefined, PRIVATE_JOB_REASONS.failed],
  ])('a %s job with %j says only %j', (status, raw, phrase) => {
    expect(privateJobReason(status, raw)).toBe(phrase);
  });

  it('no phrase of the vocabulary carries a digit (no size, count or time can hide in one)', () => {
    for (const phrase of Object.values(PRIVATE_JOB_REASONS)) expect(phrase).not.toMatch(/\d/);
    for (const state of PRIVATE_ZONE_STATES)
      for (const error of ['InputRejected', 'PrivacyCheckFailed', 'States.Timeout', 'Lambda.Unknown'])
        expect(crossingCause(state, error, 'train.jsonl:17: 3.2 GiB')).not.toMatch(/\d/);
  });

  it('keeps a synthesis-zone cause as it is, and a private JobFailed only when its phrase is the vocabulary’s', () => {
    expect(crossingCause('Score candidates', 'JobFailed', 'x: y Failed: scores.jsonl:3')).toBe(
      'x: y Failed: scores.jsonl:3',
    );
    const phrased = `Evaluate: rds-ev-1 Failed: ${PRIVATE_JOB_REASONS.outOfMemory}`;
    expect(crossingCause('Evaluate', 'JobFailed', phrased)).toBe(phrased);
    expect(crossingCause('Evaluate', 'JobFailed', 'Evaluate: rds-ev-1 Failed: out of memory at 3 GiB')).toBe(
      `Evaluate: ${PRIVATE_JOB_REASONS.failed}`,
    );
  });
});
